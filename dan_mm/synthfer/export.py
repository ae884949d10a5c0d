"""Exporting a SynthFER split in FERPlus's or AffectNet's layout, for
trying cross-dataset evaluation without a licensed data set."""
import csv
import glob
import os
import os.path as osp
import re

import cv2
import numpy as np

from ..datasets.categories import (AFFECTNET_CATEGORIES, FER2013_CATEGORIES,
                                   FERPLUS_CATEGORIES, FERPLUS_VOTE_COLUMNS,
                                   RAFDB_CATEGORIES, canonical_expression)
from ..utils.errors import ConfigError, OutputExistsError
from .draw import draw_face


def export_synthfer(root: str,
                    out: str,
                    layout: str,
                    split: str = 'test',
                    contempt: int = 0,
                    seed: int = 0,
                    overwrite: bool = False) -> str:
    """Write a SynthFER split in another data set's layout, for trying
    cross-dataset evaluation without a licensed data set.

    Labels follow the target's classes, matched by name (SynthFER has
    RAF-DB's). ``contempt`` extra images are labelled Contempt, a class
    RAF-DB lacks (drawn as Neutral faces), so that the evaluation has a
    class to leave out.

    - ``'ferplus'``: ``fer2013.csv`` (48x48 gray pixels; ``emotion`` in
      FER2013's order, Contempt rows as Neutral) and ``fer2013new.csv`` with
      all ten votes on the face's class; Usage ``PrivateTest`` for the test
      split, ``Training`` for train.
    - ``'affectnet'``: AffectNet's release layout with whole photos: each
      face pasted at a random place into a larger picture under
      ``Manually_Annotated_Images/``, and ``validation.csv`` (test split) or
      ``training.csv`` with AffectNet's columns, the face box included.

    Both splits can go to one folder, as both layouts hold both: the FERPlus
    rows of a split are added to the CSVs already there, and the AffectNet
    pictures of each split have their own names (``1/train_0.png``,
    ``1/test_0.png``). A split already in ``out`` is refused, as it may be
    another run's; with ``overwrite`` its rows and pictures are deleted first
    and the other split's stay.

    Args:
        root (str): A SynthFER (RAF-DB layout) folder.
        out (str): The output folder (created).
        layout (str): ``'ferplus'`` or ``'affectnet'``.
        split (str): The SynthFER split to export. Defaults to ``'test'``.
        contempt (int): Extra Contempt images. Defaults to 0.
        seed (int): Seed of the Contempt faces and the photo layouts.
        overwrite (bool): Replace this split if ``out`` has it. Defaults to
            False.

    Returns:
        str: The label file written (``fer2013new.csv`` or the CSV).

    Raises:
        OutputExistsError: ``out`` has this split already (without
            ``overwrite``).
    """
    from ..datasets.rafdb import RAFDB
    if layout not in ('ferplus', 'affectnet'):
        raise ConfigError(
            f'layout must be "ferplus" or "affectnet", got "{layout}"')
    source = RAFDB(root, split=split, pipeline=[])
    infos = [source.get_data_info(i) for i in range(len(source))]
    faces = [(cv2.imread(info['img_path']), RAFDB_CATEGORIES[info['gt_label']])
             for info in infos]
    rng = np.random.default_rng(seed)
    neutral = RAFDB_CATEGORIES.index('Neutral')
    faces += [(cv2.cvtColor(draw_face(neutral, rng),
                            cv2.COLOR_RGB2BGR), 'Contempt')
              for _ in range(contempt)]
    target = FERPLUS_CATEGORIES if layout == 'ferplus' else \
        AFFECTNET_CATEGORIES
    label_of = {canonical_expression(c): i for i, c in enumerate(target)}
    labels = [label_of[canonical_expression(name)] for _, name in faces]
    os.makedirs(out, exist_ok=True)
    if layout == 'ferplus':
        return _export_ferplus(out, split, faces, labels, overwrite)
    return _export_affectnet(out, split, faces, labels, rng, overwrite)


FERPLUS_VOTES = [
    'neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear',
    'contempt', 'unknown', 'NF'
]
FERPLUS_PIXELS_HEADER = ['emotion', 'pixels', 'Usage']
FERPLUS_HEADERS = (FERPLUS_PIXELS_HEADER,
                   ['Usage', 'Image name'] + FERPLUS_VOTES)


def _export_ferplus(out, split, faces, labels, overwrite):
    """Add a split's rows to ``fer2013.csv`` and ``fer2013new.csv``, which
    pair their rows by order (see :class:`~dan_mm.datasets.FERPlus`)."""
    usage = 'Training' if split == 'train' else 'PrivateTest'
    paths = [osp.join(out, n) for n in ('fer2013.csv', 'fer2013new.csv')]
    pixel_rows, vote_rows = (_read_csv(p, h)
                             for p, h in zip(paths, FERPLUS_HEADERS))
    if len(pixel_rows) != len(vote_rows):
        raise OutputExistsError(
            f'{paths[0]} has {len(pixel_rows)} rows and {paths[1]} '
            f'{len(vote_rows)}: not one export; export to another folder')
    if any(row[0] == usage for row in vote_rows):
        if not overwrite:
            raise OutputExistsError(
                f'{paths[1]} has rows with Usage {usage} already (the '
                f'SynthFER {split} split of an earlier export): export to '
                'another folder, or pass overwrite=True to replace them')
        keep = [i for i, row in enumerate(vote_rows) if row[0] != usage]
        pixel_rows = [pixel_rows[i] for i in keep]
        vote_rows = [vote_rows[i] for i in keep]
    # image names stay unique across the splits of one folder
    numbers = [re.fullmatch(r'fer(\d+)\.png', row[1]) for row in vote_rows]
    start = 1 + max((int(m[1]) for m in numbers if m), default=-1)
    for i, ((img, _), label) in enumerate(zip(faces, labels)):
        gray = cv2.resize(
            cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), (48, 48),
            interpolation=cv2.INTER_AREA)
        emotion = min(label, FER2013_CATEGORIES.index('Neutral'))
        pixel_rows.append(
            [emotion, ' '.join(map(str, gray.reshape(-1))), usage])
        vote_rows.append([usage, f'fer{start + i:07d}.png'] + [
            10 if c == FERPLUS_VOTE_COLUMNS[label] else 0
            for c in FERPLUS_VOTES
        ])
    _write_csv(paths[0], FERPLUS_HEADERS[0], pixel_rows)
    return _write_csv(paths[1], FERPLUS_HEADERS[1], vote_rows)


def _export_affectnet(out, split, faces, labels, rng, overwrite):
    """Write a split's photos (named by split) and its CSV."""
    img_dir = osp.join(out, 'Manually_Annotated_Images', '1')
    csv_file = osp.join(
        out, 'training.csv' if split == 'train' else 'validation.csv')
    earlier = [csv_file] if osp.exists(csv_file) else []
    earlier += sorted(glob.glob(osp.join(img_dir, f'{split}_*.png')))
    if earlier and not overwrite:
        raise OutputExistsError(
            f'{earlier[0]} exists (the SynthFER {split} split of an earlier '
            'export): export to another folder, or pass overwrite=True to '
            'replace that split')
    for path in earlier:
        os.remove(path)
    os.makedirs(img_dir, exist_ok=True)
    rows = []
    for i, ((img, _), label) in enumerate(zip(faces, labels)):
        h, w = img.shape[:2]
        photo_h = int(h * rng.uniform(1.3, 2))
        photo_w = int(w * rng.uniform(1.3, 2))
        photo = np.empty((photo_h, photo_w, 3), np.uint8)
        photo[:] = rng.integers(0, 256, 3)
        x = int(rng.integers(0, photo_w - w))
        y = int(rng.integers(0, photo_h - h))
        photo[y:y + h, x:x + w] = img
        name = f'{split}_{i}.png'
        cv2.imwrite(osp.join(img_dir, name), photo)
        rows.append([f'1/{name}', x, y, w, h, '', label, 0, 0])
    return _write_csv(csv_file, [
        'subDirectory_filePath', 'face_x', 'face_y', 'face_width',
        'face_height', 'facial_landmarks', 'expression', 'valence', 'arousal'
    ], rows)


def _read_csv(path: str, header: list) -> list:
    """The rows of an earlier export's CSV (none if there is no file)."""
    if not osp.exists(path):
        return []
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != header:
        raise OutputExistsError(
            f'{path} exists and is not a SynthFER export (its header is not '
            f'{",".join(header)}): export to another folder')
    return rows[1:]


def _write_csv(path: str, header: list, rows: list) -> str:
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path
