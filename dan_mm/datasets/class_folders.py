"""A folder of faces with one subfolder per class (``happy/``, ``sad/``,
...): its classes and images, checked, and a stratified hold-out split."""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..utils.errors import DataError, DataNotFoundError
from ..utils.image_io import list_image_files

# Subfolder names that mean "already split" (any case).
TRAIN_NAMES = ('train', 'training')
VAL_NAMES = ('val', 'valid', 'validation')


def class_folders(root: str) -> Dict[str, List[str]]:
    """The classes of a folder-per-class data set and their images.

    Args:
        root (str): A folder with one subfolder per class; images anywhere
            below each (any depth).

    Returns:
        dict[str, list[str]]: Class name (the folder name) -> image paths,
        classes sorted by name (mmpretrain's ``CustomDataset`` order).

    Raises:
        DataNotFoundError: ``root`` is not a folder.
        DataError: It has fewer than two class folders, or a class folder
            has fewer than two images (one line naming the folder).
    """
    if not osp.isdir(root):
        raise DataNotFoundError(f'data folder not found: {root}')
    names = sorted(
        name for name in os.listdir(root)
        if osp.isdir(osp.join(root, name)) and not name.startswith('.'))
    if len(names) < 2:
        raise DataError(
            f'{root} has {len(names)} class folder(s) '
            f'({", ".join(names) or "none"}): a classifier needs at least '
            'two, one subfolder per expression (e.g. happy/, sad/)')
    classes = {}
    for name in names:
        files = list_image_files(osp.join(root, name), recursive=True)
        if len(files) < 2:
            raise DataError(
                f'class folder {osp.join(root, name)} has {len(files)} '
                'image(s): give each class at least two (one to train on, '
                'one to check), or remove the folder')
        classes[name] = files
    return classes


def split_folders(root: str) -> Optional[Tuple[str, str]]:
    """``root``'s train and validation subfolders, if it is already split.

    Args:
        root (str): The data folder.

    Returns:
        tuple[str, str] | None: ``(train, val)`` folder names, or None when
        ``root`` holds class folders directly.
    """
    if not osp.isdir(root):
        return None
    names = {name.lower(): name for name in os.listdir(root)}
    train = next((names[n] for n in TRAIN_NAMES if n in names), None)
    val = next((names[n] for n in VAL_NAMES if n in names), None)
    if train and val:
        return train, val
    return None


def stratified_split(labels: List[int], val_fraction: float,
                     seed: int) -> Tuple[List[int], List[int]]:
    """Hold out ``val_fraction`` of every class (at least one image each,
    and at least one left to train on), seeded.

    Args:
        labels (list[int]): The label of each sample.
        val_fraction (float): Fraction of each class held out, in (0, 1).
        seed (int): Random seed.

    Returns:
        tuple[list[int], list[int]]: Sorted train and val indices.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f'val_fraction must be in (0, 1), got {val_fraction}')
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    train, val = [], []
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        n_val = min(max(1, round(len(idx) * val_fraction)), len(idx) - 1)
        val.extend(idx[:n_val].tolist())
        train.extend(idx[n_val:].tolist())
    return sorted(train), sorted(val)


def write_split(root: str,
                out_dir: str,
                val_fraction: float = 0.2,
                seed: int = 0) -> Tuple[Tuple[str, ...], str, str]:
    """Split a folder-per-class data set, stratified, into annotation files
    for mmpretrain's ``CustomDataset`` (``path label`` per line, paths
    relative to ``root``).

    Args:
        root (str): A folder with one subfolder per class.
        out_dir (str): Where ``train.txt`` and ``val.txt`` go (created).
        val_fraction (float): Fraction of each class held out. Defaults to
            0.2.
        seed (int): Seed of the split. Defaults to 0.

    Returns:
        tuple: The classes (folder names, sorted), and the train and val
        annotation files.
    """
    classes = class_folders(root)
    files, labels = [], []
    for label, paths in enumerate(classes.values()):
        files += [osp.relpath(p, root) for p in paths]
        labels += [label] * len(paths)
    train, val = stratified_split(labels, val_fraction, seed)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, indices in (('train', train), ('val', val)):
        path = osp.join(out_dir, f'{name}.txt')
        with open(path, 'w') as f:
            f.writelines(f'{files[i]} {labels[i]}\n' for i in indices)
        written.append(path)
    return tuple(classes), written[0], written[1]
