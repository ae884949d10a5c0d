"""FER2013, decoded in memory from the pixel columns of ``fer2013.csv``."""
import csv
import os.path as osp
from typing import Dict, List

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from dan_mm.utils.errors import ConfigError, DataError, DataNotFoundError
from .categories import FER2013_CATEGORIES
from .utils import check_data_root

FER_SIZE = 48  # FER2013 images are 48x48 grayscale


def read_fer_csv(path: str, required: tuple) -> List[Dict[str, str]]:
    """Read a FER2013-style CSV into dicts keyed by lower-case column names.

    Every row gets a ``'_line'`` entry, its line number in the file.

    Args:
        path (str): The CSV file.
        required (tuple[str]): Lower-case column names that must be present.

    Returns:
        list[dict]: One dict per non-empty data row.
    """
    if not osp.isfile(path):
        raise DataNotFoundError(f'FER2013/FERPlus file not found: {path}')
    try:
        return _read_fer_csv(path, required)
    except UnicodeDecodeError as err:
        raise DataError(f'{path}: not a UTF-8 CSV file ({err.reason} at '
                        f'byte {err.start})') from None


def _read_fer_csv(path: str, required: tuple) -> List[Dict[str, str]]:
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.reader(f)
        header = [c.strip().lower() for c in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(f'{path}:1: missing column(s) {missing}; the '
                            f'header is {header}')
        rows = []
        for lineno, row in enumerate(reader, start=2):
            if not row or not ''.join(row).strip():
                continue
            if len(row) < len(header):
                raise DataError(f'{path}:{lineno}: expected {len(header)} '
                                f'columns, got {len(row)}')
            info = dict(zip(header, (v.strip() for v in row)))
            info['_line'] = str(lineno)
            rows.append(info)
    return rows


def decode_pixels(pixels: str, where: str) -> np.ndarray:
    """Decode a space-separated 48*48 ``pixels`` field into a uint8 image.

    Args:
        pixels (str): ``'70 80 82 ...'``, row-major.
        where (str): ``file:line`` for the error message.

    Returns:
        np.ndarray: A ``(48, 48)`` uint8 array.
    """
    try:
        values = np.array(pixels.split(), dtype=np.int64)
    except ValueError:
        raise DataError(f'{where}: the pixels field holds a non-integer '
                        'value') from None
    if values.size != FER_SIZE * FER_SIZE:
        raise DataError(f'{where}: expected {FER_SIZE}*{FER_SIZE}='
                        f'{FER_SIZE * FER_SIZE} pixels, got {values.size}')
    if values.min() < 0 or values.max() > 255:
        raise DataError(f'{where}: pixel values must lie in 0..255')
    return values.astype(np.uint8).reshape(FER_SIZE, FER_SIZE)


@DATASETS.register_module()
class FER2013(BaseDataset):
    """FER2013 from ``fer2013.csv``, with no image files.

    The CSV has the columns ``emotion`` (0 Angry, 1 Disgust, 2 Fear,
    3 Happy, 4 Sad, 5 Surprise, 6 Neutral), ``pixels`` (48*48
    space-separated gray levels) and ``Usage`` (``Training``,
    ``PublicTest``, ``PrivateTest``)::

        data_root/fer2013.csv

    Each data info holds the decoded image under ``img`` (48x48x3 uint8,
    the gray level repeated on three channels). ``LoadFaceImage`` passes it
    through, so the usual pipelines work; mmcv's ``LoadImageFromFile`` does
    not (start such a pipeline at ``Resize``).

    Args:
        data_root (str): Folder of the CSV.
        split (str): ``'train'`` (Training), ``'val'`` (PublicTest) or
            ``'test'`` (PrivateTest). Defaults to ``'train'``.
        ann_file (str): The CSV, relative to ``data_root``.
            Defaults to ``'fer2013.csv'``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    METAINFO = {'classes': FER2013_CATEGORIES}
    USAGES = {'train': 'Training', 'val': 'PublicTest', 'test': 'PrivateTest'}

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = 'fer2013.csv',
                 **kwargs):
        if split not in self.USAGES:
            raise ConfigError(f'{type(self).__name__} split must be one of '
                              f'{tuple(self.USAGES)}, got "{split}"')
        self.split = split
        kwargs.setdefault('test_mode', split != 'train')
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Decode the rows of the split into ``{'img', 'gt_label'}``."""
        self._check_root()
        usage = self.USAGES[self.split]
        num_classes = len(FER2013_CATEGORIES)
        data_list = []
        for row in read_fer_csv(self.ann_file, ('emotion', 'pixels', 'usage')):
            where = f'{self.ann_file}:{row["_line"]}'
            if row['usage'] not in self.USAGES.values():
                raise DataError(f'{where}: Usage "{row["usage"]}" is not one '
                                f'of {tuple(self.USAGES.values())}')
            if row['usage'] != usage:
                continue
            label = row['emotion']
            if not label.isdigit() or int(label) >= num_classes:
                raise DataError(f'{where}: emotion "{label}" is not a label '
                                f'0..{num_classes - 1}')
            data_list.append(
                dict(
                    img=decode_pixels(row['pixels'], where),
                    gt_label=int(label)))
        if not data_list:
            raise DataError(f'{self.ann_file}: no rows with Usage "{usage}"')
        return data_list

    def _check_root(self) -> None:
        check_data_root(type(self).__name__, self.data_root)

    def get_data_info(self, idx: int) -> dict:
        """The data info of ``idx`` with ``img`` as a 3-channel image.

        Images are kept single-channel in memory (a third of the size) and
        repeated onto three channels here, as the models expect.
        """
        info = super().get_data_info(idx)
        gray = info['img']
        if gray.ndim == 2:
            info['img'] = np.repeat(gray[..., None], 3, axis=2)
        info['img_shape'] = info['ori_shape'] = info['img'].shape[:2]
        return info

    def extra_repr(self) -> List[str]:
        return [
            f'Split: \t{self.split} ({self.USAGES[self.split]})',
            f'Annotation file: \t{self.ann_file}'
        ]
