"""AffectNet in the layouts the DAN reference (and its users) read."""
import csv
import os
import os.path as osp
import re
from collections import Counter
from typing import List, Optional, Tuple

import numpy as np
from mmengine.logging import MMLogger
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS
from torchvision.datasets.folder import IMG_EXTENSIONS

from dan_mm.utils.errors import ConfigError, DataError, DataNotFoundError
from .categories import AFFECTNET_CATEGORIES
from .utils import check_data_root

# Raw AffectNet labels beyond the 8 expressions: never used for training.
UNUSED_LABELS = {8: 'None', 9: 'Uncertain', 10: 'No-face'}
# Header names (lower case) a CSV manifest may use. AffectNet's own
# training.csv / validation.csv use subDirectory_filePath, face_x, face_y,
# face_width, face_height, facial_landmarks, expression, valence, arousal;
# the reference's affectnet.csv uses (index), phase, img_path, label.
PATH_COLUMNS = ('subdirectory_filepath', 'path', 'img_path', 'image', 'file',
                'filename')
LABEL_COLUMNS = ('expression', 'label', 'emotion', 'gt_label')
SPLIT_COLUMNS = ('phase', 'split', 'usage')
BOX_COLUMNS = ('face_x', 'face_y', 'face_width', 'face_height')
# Values of a split column, and the words a split's own file is named by.
SPLIT_VALUES = {
    'train': ('train', 'training'),
    'val': ('val', 'valid', 'validation')
}


@DATASETS.register_module()
class AffectNet(BaseDataset):
    """AffectNet expressions, 8 classes or 7 (without Contempt).

    Labels are AffectNet's own: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise,
    4 Fear, 5 Disgust, 6 Anger, 7 Contempt. Raw labels 8 (None),
    9 (Uncertain) and 10 (No-face) are skipped, and so is 7 when
    ``num_classes=7``; how many were skipped is logged. Any other label is an
    error naming the file (and line) it came from.

    Three layouts are read (``layout='auto'`` picks the first that exists)::

        # 'official': the release of cropped faces, one label per .npy
        data_root/train_set/images/<id>.jpg
        data_root/train_set/annotations/<id>_exp.npy     (val: val_set/)

        # 'folder': the reference's class-folder copy, folder = label
        data_root/train/<label>/<name>.jpg               (val: val/)

        # 'csv': a manifest, paths relative to data_root/data_prefix
        data_root/<ann_file>

    A CSV manifest either has a header naming its columns or no header and
    ``<path>,<label>`` rows. Header names (any case): path
    ``subDirectory_filePath``, ``path``, ``img_path``, ``image``, ``file`` or
    ``filename``; label ``expression``, ``label``, ``emotion`` or
    ``gt_label``; optionally a split column ``phase``, ``split`` or
    ``Usage`` (values ``train``/``training``, ``val``/``valid``/
    ``validation``) and the face box ``face_x``, ``face_y``,
    ``face_width``, ``face_height``.

    - **Splits.** With a split column, each split reads its own rows (the
      reference's ``affectnet.csv`` has ``phase``). Without one, the file is
      one split's own file and its name must say which (``training.csv``,
      ``validation.csv``, ``train*.csv``, ``val*.csv``); any other file is
      refused, as train and val would silently read the same rows.
    - **Face boxes.** AffectNet's ``Manually_Annotated_Images`` are whole
      photos; its CSVs give each face's box in pixels. When the CSV has the
      four box columns (and ``use_face_box`` is not False), each sample
      carries ``face_box=(x, y, w, h)`` and
      :class:`~dan_mm.datasets.transforms.LoadFaceImage` crops it. Pass
      ``use_face_box=False`` for copies whose images are already cropped.

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
        use_face_box (bool, optional): Crop each image to the CSV's face
            box. None uses the box when the CSV has the four columns; True
            requires them. Defaults to None.
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
                 use_face_box: Optional[bool] = None,
                 skip_missing: bool = False,
                 **kwargs):
        if split not in self.SPLITS:
            raise ConfigError(
                f'AffectNet split must be one of {self.SPLITS}, got "{split}"'
                ' (the test set is not public: papers test on val)')
        if num_classes not in (7, 8):
            raise ConfigError(
                f'AffectNet num_classes must be 7 or 8, got {num_classes}')
        if layout not in self.LAYOUTS:
            raise ConfigError(f'AffectNet layout must be one of '
                              f'{self.LAYOUTS}, got "{layout}"')
        if layout == 'csv' and not ann_file:
            raise ConfigError('AffectNet layout="csv" needs an ann_file')
        self.split = split
        self.num_classes = num_classes
        self.layout = 'csv' if layout == 'auto' and ann_file else layout
        self.use_face_box = use_face_box
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
        raise DataNotFoundError(
            f'AffectNet: found neither {self.OFFICIAL_DIRS[self.split]}/'
            f'images/ nor {self.split}/<label>/ under {self.data_root}; '
            'pass ann_file=<manifest.csv> for a CSV manifest')

    def _official_samples(self) -> List[Tuple[str, int, str, None]]:
        split_dir = osp.join(self.data_root, self.OFFICIAL_DIRS[self.split])
        img_dir = osp.join(split_dir, 'images')
        ann_dir = osp.join(split_dir, 'annotations')
        if not osp.isdir(img_dir):
            raise DataNotFoundError(f'AffectNet: no image folder {img_dir}')
        samples = []
        for name in sorted(os.listdir(img_dir)):
            stem, ext = osp.splitext(name)
            if ext.lower() not in IMG_EXTENSIONS:
                continue
            ann = osp.join(ann_dir, f'{stem}_exp.npy')
            if not osp.isfile(ann):
                raise DataNotFoundError(
                    f'AffectNet: {ann} (the label of {osp.join(img_dir, name)}'
                    ') does not exist')
            try:
                value = np.load(ann)
            except (OSError, ValueError) as err:
                raise DataError(f'{ann}: not a readable .npy label file '
                                f'({err})') from None
            # The release stores the label as a 0-d string array ('3').
            if value.size != 1:
                raise DataError(f'{ann}: expected one scalar label, got an '
                                f'array of shape {value.shape}')
            samples.append(
                (osp.join(img_dir,
                          name), self._parse_label(value.reshape(-1)[0],
                                                   ann), ann, None))
        return samples

    def _folder_samples(self) -> List[Tuple[str, int, str, None]]:
        split_dir = osp.join(self.data_root, self.split)
        samples = []
        for folder in sorted(os.listdir(split_dir)):
            path = osp.join(split_dir, folder)
            if not osp.isdir(path):
                continue
            label = self._parse_label(folder, path)
            for name in sorted(os.listdir(path)):
                if osp.splitext(name)[1].lower() in IMG_EXTENSIONS:
                    samples.append((osp.join(path, name), label, path, None))
        return samples

    def _csv_samples(self) -> List[Tuple[str, int, str, Optional[tuple]]]:
        if not osp.isfile(self.ann_file):
            raise DataNotFoundError(
                f'AffectNet manifest not found: {self.ann_file}')
        try:
            with open(self.ann_file, newline='', encoding='utf-8') as f:
                rows = list(csv.reader(f))
        except UnicodeDecodeError as err:
            raise DataError(f'{self.ann_file}: not a UTF-8 CSV file '
                            f'({err.reason} at byte {err.start})') from None
        header = [c.strip().lower() for c in rows[0]] if rows else []

        def column(names):
            return next((header.index(c) for c in names if c in header), None)

        path_col, label_col = column(PATH_COLUMNS), column(LABEL_COLUMNS)
        if path_col is not None and label_col is not None:
            rows, start = rows[1:], 2  # start: line number of the first row
            split_col = column(SPLIT_COLUMNS)
            box_cols = [column((c, )) for c in BOX_COLUMNS]
        elif rows and len(rows[0]) > 1 and _is_int(rows[0][1]):
            # no header: path, label
            path_col, label_col, start = 0, 1, 1
            split_col, box_cols = None, [None]
        else:
            raise DataError(
                f'{self.ann_file}:1: expected a header naming a path column '
                f'{PATH_COLUMNS} and a label column {LABEL_COLUMNS}, or '
                f'"<path>,<label>" rows; got {rows[0] if rows else "nothing"}')
        has_box = None not in box_cols
        if self.use_face_box and not has_box:
            raise ConfigError(
                f'AffectNet use_face_box=True but {self.ann_file} has no '
                f'face box columns {BOX_COLUMNS}')
        use_box = has_box and self.use_face_box is not False
        if split_col is None:
            self._check_split_file()
        samples = []
        for lineno, row in enumerate(rows, start=start):
            if not row or not ''.join(row).strip():
                continue
            where = f'{self.ann_file}:{lineno}'
            needed = [path_col, label_col, split_col] + (
                box_cols if use_box else [])
            if len(row) <= max(c for c in needed if c is not None):
                raise DataError(f'{where}: expected {len(header)} columns, '
                                f'got {len(row)}: {row}')
            if split_col is not None and self._row_split(
                    row[split_col], where) != self.split:
                continue
            box = self._parse_box([row[c] for c in box_cols],
                                  where) if use_box else None
            samples.append((osp.join(self.img_prefix, row[path_col].strip()),
                            self._parse_label(row[label_col],
                                              where), where, box))
        if not samples and split_col is not None:
            raise DataError(
                f'{self.ann_file}: no rows of split "{self.split}" (no '
                f'{"/".join(SPLIT_VALUES[self.split])} in its '
                f'"{header[split_col]}" column)')
        return samples

    def _check_split_file(self) -> None:
        """A CSV without a split column must be named for ``self.split``."""
        name = osp.basename(self.ann_file).lower()
        named_for = [
            split for split, words in SPLIT_VALUES.items() if any(
                re.search(rf'(^|[^a-z]){w}', name) for w in words)
        ]
        if named_for == [self.split]:
            return
        fix = ('give each split its own file, named for it '
               '(train_dataloader.dataset.ann_file=training.csv and '
               'val_dataloader.dataset.ann_file=validation.csv, as AffectNet '
               'ships them), or add a "phase" column with train/val')
        if len(named_for) == 1:
            raise ConfigError(
                f'AffectNet split="{self.split}" reads {self.ann_file}, which '
                f'is named for the {named_for[0]} split and has no split '
                f'column {SPLIT_COLUMNS}; {fix}')
        raise ConfigError(
            f'{self.ann_file} has no split column {SPLIT_COLUMNS} and its '
            'name does not say which split it holds, so train and val would '
            f'read the same rows; {fix}')

    def _row_split(self, value: str, where: str) -> str:
        text = value.strip().lower()
        for split, words in SPLIT_VALUES.items():
            if text in words:
                return split
        raise DataError(f'{where}: split "{value.strip()}" is not one of ' +
                        ', '.join(w for words in SPLIT_VALUES.values()
                                  for w in words) +
                        ' (AffectNet has no public test set)')

    @staticmethod
    def _parse_box(values: List[str], where: str) -> tuple:
        try:
            x, y, w, h = (float(v) for v in values)
        except ValueError:
            raise DataError(
                f'{where}: face box {values} ('
                f'{", ".join(BOX_COLUMNS)}) is not four numbers') from None
        if w <= 0 or h <= 0:
            raise DataError(f'{where}: face box {values} has no area')
        return (x, y, w, h)

    def _parse_label(self, value, where: str) -> int:
        text = str(value).strip()
        if not _is_int(text):
            raise DataError(f'{where}: label "{text}" is not an integer')
        label = int(float(text))
        if not 0 <= label <= max(UNUSED_LABELS):
            raise DataError(f'{where}: label {label} is outside AffectNet\'s '
                            f'0..{max(UNUSED_LABELS)}')
        return label

    # -- BaseDataset ------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read the chosen layout into ``{'img_path', 'gt_label'}`` dicts
        (plus ``face_box`` for a CSV with face boxes)."""
        check_data_root('AffectNet', self.data_root)
        layout = self._resolve_layout()
        samples = getattr(self, f'_{layout}_samples')()
        skipped, missing, data_list = Counter(), [], []
        for img_path, label, where, box in samples:
            if label >= self.num_classes:
                skipped[UNUSED_LABELS.get(label, AFFECTNET_CATEGORIES[-1])] \
                    += 1
                continue
            if not osp.isfile(img_path):
                if not self.skip_missing:
                    raise DataNotFoundError(
                        f'{where}: image {img_path} does not exist (pass '
                        'skip_missing=True to skip)')
                missing.append(img_path)
                continue
            info = dict(img_path=img_path, gt_label=label)
            if box is not None:
                info['face_box'] = box
            data_list.append(info)
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
            raise DataError(
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
