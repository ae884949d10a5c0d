"""Tiny copies of the FER data set layouts, on disk or in memory, for tests.

RAF-DB (and SynthFER, which shares its layout): :func:`make_rafdb`;
AffectNet: :func:`make_affectnet_official`, :func:`make_affectnet_folders`;
FER2013 / FERPlus: :func:`make_fer2013`, :func:`make_ferplus`; folder per
class (SFEW, CK+): :func:`make_class_folders`; labels only, for samplers:
:class:`LabelsOnly`. A whole SynthFER set is the ``synthfer_root`` fixture
(conftest.py).
"""
import csv
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image

from dan_mm.synthfer import draw_face

FERPLUS_HEADER = [
    'Usage', 'Image name', 'neutral', 'happiness', 'surprise', 'sadness',
    'anger', 'disgust', 'fear', 'contempt', 'unknown', 'NF'
]


def face(label: int, seed: int, size: int = 64) -> np.ndarray:
    """A SynthFER face (RGB uint8); ``label`` is taken modulo 7."""
    return draw_face(label % 7, np.random.default_rng(seed), size)


def make_rafdb(root: str,
               labels: Union[str, bytes, Sequence[str]],
               images: Optional[Sequence[str]] = None,
               size: int = 32) -> str:
    """A RAF-DB tree: ``EmoLabel/list_patition_label.txt`` and images.

    Args:
        root (str): The data root (created).
        labels (str | bytes | Sequence[str]): The label file's content, or
            its lines (``'train_00001.jpg 5'``).
        images (Sequence[str], optional): Image names to write as
            ``Image/aligned/<stem>_aligned.jpg``; by default every name the
            label lines list.
        size (int): Image side. Defaults to 32.

    Returns:
        str: The label file.
    """
    os.makedirs(osp.join(root, 'EmoLabel'), exist_ok=True)
    os.makedirs(osp.join(root, 'Image', 'aligned'), exist_ok=True)
    if not isinstance(labels, (str, bytes)):
        labels = ''.join(line + '\n' for line in labels)
    if images is None:
        text = labels.decode('utf-8', 'replace') if isinstance(
            labels, bytes) else labels
        images = [
            line.split()[0] for line in text.splitlines() if line.strip()
        ]
    for i, name in enumerate(images):
        stem = osp.splitext(name)[0]
        Image.fromarray(face(i, i, size)).save(
            osp.join(root, 'Image', 'aligned', f'{stem}_aligned.jpg'))
    ann_file = osp.join(root, 'EmoLabel', 'list_patition_label.txt')
    with open(ann_file, 'wb') as f:
        f.write(labels if isinstance(labels, bytes) else labels.encode())
    return ann_file


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


class LabelsOnly(torch.utils.data.Dataset):
    """A data set of labels only (for samplers): ``counts[c]`` samples of
    class ``c``, in class order. Defaults to 80, 15 and 5."""

    def __init__(self, counts: Sequence[int] = (80, 15, 5)):
        self.labels = np.repeat(np.arange(len(counts)), counts)

    def get_gt_labels(self) -> np.ndarray:
        return self.labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int) -> int:
        return int(self.labels[idx])
