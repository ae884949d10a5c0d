"""Tiny on-disk copies of the FER data set layouts, for tests."""
import csv
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image

from dan_mm.datasets import draw_face

FERPLUS_HEADER = [
    'Usage', 'Image name', 'neutral', 'happiness', 'surprise', 'sadness',
    'anger', 'disgust', 'fear', 'contempt', 'unknown', 'NF'
]


def face(label: int, seed: int, size: int = 64) -> np.ndarray:
    """A SynthFER face (RGB uint8); ``label`` is taken modulo 7."""
    return draw_face(label % 7, np.random.default_rng(seed), size)


def make_affectnet_official(root: str,
                            labels: Dict[str, Sequence],
                            size: int = 64) -> None:
    """``root/{train_set,val_set}/images/<id>.jpg`` + ``<id>_exp.npy``.

    Labels are stored as AffectNet does, 0-d string arrays.
    """
    for split, split_labels in labels.items():
        img_dir = osp.join(root, f'{split}_set', 'images')
        ann_dir = osp.join(root, f'{split}_set', 'annotations')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i, label in enumerate(split_labels):
            Image.fromarray(face(int(label), i,
                                 size)).save(osp.join(img_dir, f'{i}.jpg'))
            np.save(osp.join(ann_dir, f'{i}_exp.npy'), np.array(str(label)))


def make_affectnet_folders(root: str,
                           labels: Dict[str, Sequence],
                           size: int = 64) -> None:
    """The reference's class-folder copy ``root/{train,val}/<label>/``."""
    for split, split_labels in labels.items():
        for i, label in enumerate(split_labels):
            folder = osp.join(root, split, str(label))
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(face(int(label), i,
                                 size)).save(osp.join(folder, f'img{i}.jpg'))


def fer_row_pixels(label: int, seed: int) -> str:
    gray = np.asarray(Image.fromarray(face(label, seed, 48)).convert('L'))
    return ' '.join(map(str, gray.reshape(-1).tolist()))


def make_fer2013(root: str, rows: List[tuple]) -> str:
    """``root/fer2013.csv`` from ``(emotion, usage)`` rows."""
    os.makedirs(root, exist_ok=True)
    path = osp.join(root, 'fer2013.csv')
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['emotion', 'pixels', 'Usage'])
        for i, (emotion, usage) in enumerate(rows):
            writer.writerow([emotion, fer_row_pixels(int(emotion), i), usage])
    return path


def make_ferplus(root: str, vote_rows: List[tuple]) -> None:
    """``fer2013.csv`` + ``fer2013new.csv`` from ``(usage, votes)`` rows.

    ``votes`` is a dict of non-zero counts keyed by fer2013new.csv's column
    names; a row with ``votes=None`` gets no image name (dropped by FERPlus).
    """
    make_fer2013(root, [(0, usage) for usage, _ in vote_rows])
    with open(osp.join(root, 'fer2013new.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(FERPLUS_HEADER)
        for i, (usage, votes) in enumerate(vote_rows):
            name = '' if votes is None else f'fer{i:07d}.png'
            counts = [(votes or {}).get(c, 0) for c in FERPLUS_HEADER[2:]]
            writer.writerow([usage, name] + counts)


def make_class_folders(root: str,
                       split: str,
                       classes: Sequence[str],
                       per_class: int = 2,
                       size: int = 64) -> None:
    """``root/<split>/<class>/*.png``, class i drawn as SynthFER class i."""
    for label, name in enumerate(classes):
        folder = osp.join(root, split, name)
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(face(label, 100 * label + i,
                                 size)).save(osp.join(folder, f'{i}.png'))


def write_ferplus_label_csv(path: str, rows: List[tuple]) -> str:
    """Microsoft's per-split ``label.csv``: ``(fer2013.csv row, votes)``
    rows, votes keyed by fer2013new.csv's column names."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        for index, votes in rows:
            writer.writerow([f'fer{index:07d}.png', '(0, 0, 48, 48)'] +
                            [votes.get(c, 0) for c in FERPLUS_HEADER[2:]])
    return path
