"""AffectNet in the layouts the DAN reference (and its users) read."""
import csv
import os
import os.path as osp
import re
from collections import Counter
from typing import List, Tuple

import numpy as np
from mmengine.logging import MMLogger
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS
from torchvision.datasets.folder import IMG_EXTENSIONS

from .categories import AFFECTNET_CATEGORIES

# Raw AffectNet labels beyond the 8 expressions: never used for training.
UNUSED_LABELS = {8: 'None', 9: 'Uncertain', 10: 'No-face'}
# Header names of the path and label columns a CSV manifest may use
# (AffectNet's own training.csv / validation.csv use the first ones).
PATH_COLUMNS = ('subdirectory_filepath', 'path', 'img_path', 'image', 'file',
                'filename')
LABEL_COLUMNS = ('expression', 'label', 'emotion', 'gt_label')


@DATASETS.register_module()
class AffectNet(BaseDataset):
    """AffectNet expressions, 8 classes or 7 (without Contempt).

    Labels are AffectNet's own: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise,
    4 Fear, 5 Disgust, 6 Anger, 7 Contempt. Raw labels 8 (None),
    9 (Uncertain) and 10 (No-face) are skipped, and so is 7 when
    ``num_classes=7``; how many were skipped is logged. Any other label is an
    error naming the file (and line) it came from.

    Three layouts are read (``layout='auto'`` picks the first that exists)::

        # 'official': the release, one scalar label per image in a .npy
        data_root/train_set/images/<id>.jpg
        data_root/train_set/annotations/<id>_exp.npy     (val: val_set/)

        # 'folder': the reference's class-folder copy, folder = label
        data_root/train/<label>/<name>.jpg               (val: val/)

        # 'csv': a manifest, path and expression columns, paths relative
        # to data_root/data_prefix (AffectNet's training.csv works as is)
        data_root/<ann_file>

    A CSV manifest either has a header naming its columns (path:
    ``subDirectory_filePath``, ``path``, ``img_path``, ``image``, ``file`` or
    ``filename``; label: ``expression``, ``label``, ``emotion`` or
    ``gt_label``) or no header and the path and label as its first two
    columns.

    Args:
        data_root (str): Root of the data set.
        split (str): ``'train'`` or ``'val'`` (AffectNet's test set is not
            public; its validation set is what papers report on).
            Defaults to ``'train'``.
        num_classes (int): 8, or 7 to drop Contempt. Defaults to 8.
        layout (str): ``'auto'``, ``'official'``, ``'folder'`` or ``'csv'``.
            Defaults to ``'auto'`` (``'csv'`` when ``ann_file`` is given).
        ann_file (str): CSV manifest, relative to ``data_root``; only for
            ``layout='csv'``. Defaults to ''.
        data_prefix (str): Image folder of a CSV manifest, relative to
            ``data_root``. Defaults to ''.
        skip_missing (bool): Skip images that are missing on disk, logging
            how many, instead of stopping. Defaults to False.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    SPLITS = ('train', 'val')
    LAYOUTS = ('auto', 'official', 'folder', 'csv')
    OFFICIAL_DIRS = {'train': 'train_set', 'val': 'val_set'}

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 num_classes: int = 8,
                 layout: str = 'auto',
                 ann_file: str = '',
                 data_prefix: str = '',
                 skip_missing: bool = False,
                 **kwargs):
        if split not in self.SPLITS:
            raise ValueError(
                f'AffectNet split must be one of {self.SPLITS}, got "{split}"')
        if num_classes not in (7, 8):
            raise ValueError(
                f'AffectNet num_classes must be 7 or 8, got {num_classes}')
        if layout not in self.LAYOUTS:
            raise ValueError(f'AffectNet layout must be one of '
                             f'{self.LAYOUTS}, got "{layout}"')
        if layout == 'csv' and not ann_file:
            raise ValueError('AffectNet layout="csv" needs an ann_file')
        self.split = split
        self.num_classes = num_classes
        self.layout = 'csv' if layout == 'auto' and ann_file else layout
        self.skip_missing = skip_missing
        kwargs.setdefault('test_mode', split == 'val')
        metainfo = kwargs.pop('metainfo', None) or {}
        metainfo.setdefault('classes', AFFECTNET_CATEGORIES[:num_classes])
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            metainfo=metainfo,
            **kwargs)

    # -- layouts ----------------------------------------------------------
    def _resolve_layout(self) -> str:
        if self.layout != 'auto':
            return self.layout
        if osp.isdir(
                osp.join(self.data_root, self.OFFICIAL_DIRS[self.split],
                         'images')):
            return 'official'
        if osp.isdir(osp.join(self.data_root, self.split)):
            return 'folder'
        raise FileNotFoundError(
            f'AffectNet: found neither {self.OFFICIAL_DIRS[self.split]}/'
            f'images/ nor {self.split}/<label>/ under {self.data_root}; '
            'pass ann_file=<manifest.csv> for a CSV manifest')

    def _official_samples(self) -> List[Tuple[str, int, str]]:
        split_dir = osp.join(self.data_root, self.OFFICIAL_DIRS[self.split])
        img_dir = osp.join(split_dir, 'images')
        ann_dir = osp.join(split_dir, 'annotations')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'AffectNet: no image folder {img_dir}')
        samples = []
        for name in sorted(os.listdir(img_dir)):
            stem, ext = osp.splitext(name)
            if ext.lower() not in IMG_EXTENSIONS:
                continue
            ann = osp.join(ann_dir, f'{stem}_exp.npy')
            if not osp.isfile(ann):
                raise FileNotFoundError(
                    f'AffectNet: {ann} (the label of {osp.join(img_dir, name)}'
                    ') does not exist')
            value = np.load(ann)
            # The release stores the label as a 0-d string array ('3').
            if value.size != 1:
                raise ValueError(f'{ann}: expected one scalar label, got an '
                                 f'array of shape {value.shape}')
            samples.append((osp.join(img_dir, name),
                            self._parse_label(value.reshape(-1)[0], ann), ann))
        return samples

    def _folder_samples(self) -> List[Tuple[str, int, str]]:
        split_dir = osp.join(self.data_root, self.split)
        samples = []
        for folder in sorted(os.listdir(split_dir)):
            path = osp.join(split_dir, folder)
            if not osp.isdir(path):
                continue
            label = self._parse_label(folder, path)
            for name in sorted(os.listdir(path)):
                if osp.splitext(name)[1].lower() in IMG_EXTENSIONS:
                    samples.append((osp.join(path, name), label, path))
        return samples

    def _csv_samples(self) -> List[Tuple[str, int, str]]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'AffectNet manifest not found: {self.ann_file}')
        with open(self.ann_file, newline='', encoding='utf-8') as f:
            rows = list(csv.reader(f))
        header = [c.strip().lower() for c in rows[0]] if rows else []
        path_col = next((header.index(c) for c in PATH_COLUMNS if c in header),
                        None)
        label_col = next(
            (header.index(c) for c in LABEL_COLUMNS if c in header), None)
        if path_col is not None and label_col is not None:
            rows, start = rows[1:], 2  # start: line number of the first row
        elif rows and len(rows[0]) > 1 and _is_int(rows[0][1]):
            path_col, label_col, start = 0, 1, 1  # no header: path, label
        else:
            raise ValueError(
                f'{self.ann_file}:1: expected a header naming a path column '
                f'{PATH_COLUMNS} and a label column {LABEL_COLUMNS}, or '
                f'"<path>,<label>" rows; got {rows[0] if rows else "nothing"}')
        samples = []
        for lineno, row in enumerate(rows, start=start):
            if not row or not ''.join(row).strip():
                continue
            where = f'{self.ann_file}:{lineno}'
            if len(row) <= max(path_col, label_col):
                raise ValueError(f'{where}: expected a path and a label, got '
                                 f'{row}')
            samples.append((osp.join(self.img_prefix, row[path_col].strip()),
                            self._parse_label(row[label_col], where), where))
        return samples

    def _parse_label(self, value, where: str) -> int:
        text = str(value).strip()
        if not _is_int(text):
            raise ValueError(f'{where}: label "{text}" is not an integer')
        label = int(float(text))
        if not 0 <= label <= max(UNUSED_LABELS):
            raise ValueError(f'{where}: label {label} is outside AffectNet\'s '
                             f'0..{max(UNUSED_LABELS)}')
        return label

    # -- BaseDataset ------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read the chosen layout into ``{'img_path', 'gt_label'}`` dicts."""
        layout = self._resolve_layout()
        samples = getattr(self, f'_{layout}_samples')()
        skipped, missing, data_list = Counter(), [], []
        for img_path, label, where in samples:
            if label >= self.num_classes:
                skipped[UNUSED_LABELS.get(label, AFFECTNET_CATEGORIES[-1])] \
                    += 1
                continue
            if not osp.isfile(img_path):
                if not self.skip_missing:
                    raise FileNotFoundError(
                        f'{where}: image {img_path} does not exist (pass '
                        'skip_missing=True to skip)')
                missing.append(img_path)
                continue
            data_list.append(dict(img_path=img_path, gt_label=label))
        logger = MMLogger.get_current_instance()
        if skipped:
            logger.info(
                f'AffectNet-{self.num_classes} {self.split}: skipped '
                f'{sum(skipped.values())} images with unused labels (' +
                ', '.join(f'{k}: {v}'
                          for k, v in sorted(skipped.items())) + ')')
        if missing:
            logger.warning(f'AffectNet {self.split}: skipped {len(missing)} '
                           f'missing images (first: {missing[0]})')
        self.skipped = dict(skipped)
        if not data_list:
            raise ValueError(
                f'AffectNet-{self.num_classes} {self.split}: no images left '
                f'under {self.data_root} (skipped: {dict(skipped)}, missing: '
                f'{len(missing)})')
        return data_list

    def extra_repr(self) -> List[str]:
        return [
            f'Split: \t{self.split}', f'Root: \t{self.data_root}',
            f'Classes: \t{self.num_classes}'
        ]


def _is_int(text: str) -> bool:
    """Whether ``text`` is an integer, possibly written as ``3.0``."""
    return re.fullmatch(r'\s*-?\d+(\.0*)?\s*', str(text)) is not None
