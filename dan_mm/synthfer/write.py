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
                      overwrite: bool = False) -> str:
    """Write a SynthFER data set in RAF-DB's on-disk layout.

    Classes are balanced (sample ``i`` has class ``i % 7``); the same seed
    gives byte-identical images. A folder that is not empty is refused, as
    its files may be another run's (or not SynthFER's at all); with
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
    ann_file = osp.join(root, 'EmoLabel', 'list_patition_label.txt')
    rng = np.random.default_rng(seed)
    num_classes = len(RAFDB_CATEGORIES)
    jobs = [('train', i, f'{i + 1:05d}') for i in range(num_train)] + \
        [('test', i, f'{i + 1:04d}') for i in range(num_test)]
    lines = []
    for split, i, number in tqdm(
            jobs, desc=f'SynthFER -> {root}', disable=not progress):
        label = i % num_classes
        img = draw_face(label, rng, size)
        name = f'{split}_{number}'
        cv2.imwrite(
            osp.join(img_dir, f'{name}_aligned.jpg'),
            cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 95])
        lines.append(f'{name}.jpg {label + 1}\n')
    with open(ann_file, 'w', encoding='utf-8') as f:
        f.writelines(lines)
    return ann_file


# What generate_synthfer writes under its root: only these may be deleted.
SYNTHFER_FILES = re.compile(
    r'Image|Image/aligned|EmoLabel|EmoLabel/list_patition_label\.txt|'
    r'Image/aligned/(train|test)_\d+_aligned\.jpg')


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
