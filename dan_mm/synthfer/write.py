"""Writing a SynthFER data set in RAF-DB's on-disk layout.

Classes follow RAF-DB's order and its file labels 1..7, so the same
:class:`~dan_mm.datasets.RAFDB` loader reads the result.
"""
import glob
import os
import os.path as osp
import re

import cv2
import numpy as np
from tqdm import tqdm

from ..datasets.categories import RAFDB_CATEGORIES
from ..utils.errors import OutputExistsError
from .draw import draw_face


def generate_synthfer(root: str,
                      num_train: int = 2800,
                      num_test: int = 700,
                      seed: int = 0,
                      size: int = 100,
                      progress: bool = True,
                      overwrite: bool = False,
                      older_share: float = 0.0) -> str:
    """Write a SynthFER data set in RAF-DB's on-disk layout.

    Classes are balanced (sample ``i`` has class ``i % 7``); the same seed
    gives byte-identical images. Beside each image, as RAF-DB's
    ``Annotation/manual/<name>_manu_attri.txt``: five landmarks, then the
    generator's own attributes in RAF-DB's three lines: gender 2 (none
    drawn), the skin tone group in the race line (0 light, 1 medium, 2
    dark) and the apparent age in the age line (2 young, 3 older; see
    :data:`dan_mm.evaluation.groups.SYNTHFER_GROUPS`).

    A folder that is not empty is refused, as its files may be another
    run's (or not SynthFER's at all); with
    ``overwrite`` an earlier SynthFER set there is deleted first, so that no
    image of it stays behind.

    Args:
        root (str): Output folder (created).
        num_train (int): Training images. Defaults to 2800.
        num_test (int): Test images. Defaults to 700.
        seed (int): Random seed. Defaults to 0.
        size (int): Image side length. Defaults to 100, as RAF-DB aligned.
        progress (bool): Show a progress bar. Defaults to True.
        overwrite (bool): Replace an earlier SynthFER set in ``root``.
            Defaults to False.
        older_share (float): The share of faces drawn older (grey hair,
            lines: :func:`~dan_mm.synthfer.draw.draw_face`), chosen by a
            random stream of their own, so that every other draw, and with
            0 every image, stays that of the same seed. Defaults to 0.

    Returns:
        str: The label file written.

    Raises:
        OutputExistsError: ``root`` is not empty (without ``overwrite``), or
            holds files SynthFER does not write (with it).
    """
    _clear_synthfer(root, overwrite)
    img_dir = osp.join(root, 'Image', 'aligned')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.join(root, 'EmoLabel'), exist_ok=True)
    attr_dir = osp.join(root, 'Annotation', 'manual')
    os.makedirs(attr_dir, exist_ok=True)
    age_rng = np.random.default_rng([seed, 1])
    ann_file = osp.join(root, 'EmoLabel', 'list_patition_label.txt')
    rng = np.random.default_rng(seed)
    num_classes = len(RAFDB_CATEGORIES)
    jobs = [('train', i, f'{i + 1:05d}') for i in range(num_train)] + \
        [('test', i, f'{i + 1:04d}') for i in range(num_test)]
    lines = []
    for split, i, number in tqdm(
            jobs, desc=f'SynthFER -> {root}', disable=not progress):
        label = i % num_classes
        attributes = {}
        older = bool(age_rng.random() < older_share)
        img = draw_face(label, rng, size, older, attributes)
        name = f'{split}_{number}'
        _write_attributes(
            osp.join(attr_dir, f'{name}_manu_attri.txt'), attributes)
        cv2.imwrite(
            osp.join(img_dir, f'{name}_aligned.jpg'),
            cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 95])
        lines.append(f'{name}.jpg {label + 1}\n')
    with open(ann_file, 'w', encoding='utf-8') as f:
        f.writelines(lines)
    return ann_file


def _write_attributes(path: str, attributes: dict) -> None:
    """One face's landmarks and attributes in RAF-DB's manual layout."""
    lines = [f'{x:.2f}\t{y:.2f}' for x, y in attributes['landmarks']]
    lines += [
        '2',
        str(attributes['skin_tone']),
        str(2 + attributes['apparent_age'])
    ]
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')


# What generate_synthfer writes under its root: only these may be deleted.
SYNTHFER_FILES = re.compile(
    r'Image|Image/aligned|EmoLabel|EmoLabel/list_patition_label\.txt|'
    r'Image/aligned/(train|test)_\d+_aligned\.jpg|Annotation|'
    r'Annotation/manual|Annotation/manual/(train|test)_\d+_manu_attri\.txt')


def _clear_synthfer(root: str, overwrite: bool) -> None:
    """Refuse a non-empty ``root``, or empty an earlier SynthFER set there.

    Args:
        root (str): The generator's output folder.
        overwrite (bool): Delete an earlier SynthFER set instead of refusing.
    """
    if not osp.isdir(root) or not os.listdir(root):
        return
    found = sorted(
        osp.relpath(p, root).replace(os.sep, '/')
        for p in glob.glob(osp.join(root, '**'), recursive=True)
        if p.rstrip(os.sep) != root.rstrip(os.sep))
    if not overwrite:
        raise OutputExistsError(
            f'{root} is not empty (it holds {found[0]}): write SynthFER to '
            'another folder, or pass overwrite=True to replace the SynthFER '
            'set there')
    foreign = [p for p in found if not SYNTHFER_FILES.fullmatch(p)]
    if foreign:
        raise OutputExistsError(
            f'{osp.join(root, foreign[0])} is not a file SynthFER writes: '
            'refusing to overwrite that folder (overwrite=True); write '
            'SynthFER to another folder')
    for path in reversed(found):  # files before their folders
        full = osp.join(root, path)
        if osp.isdir(full):
            os.rmdir(full)
        else:
            os.remove(full)
