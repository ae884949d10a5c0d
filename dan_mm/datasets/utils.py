"""Checks the FER data sets share."""
import os.path as osp
from typing import Optional, Tuple

from mmpretrain.registry import DATASETS

from dan_mm.utils.errors import DataNotFoundError


def check_data_root(name: str, data_root: str) -> None:
    """Stop with one line when a data set's ``data_root`` does not exist.

    A wrong or missing data root is the most common first error; naming the
    folder and the two fixes beats a "label file not found" one level down.

    Args:
        name (str): The data set's name, for the message.
        data_root (str): The folder the config points at.

    Raises:
        DataNotFoundError: ``data_root`` is not a folder.
    """
    if data_root and not osp.isdir(data_root):
        raise DataNotFoundError(
            f'{name}: data root {data_root} does not exist; put or link the '
            f'data set there (ln -s /path/to/your/copy {data_root}) or point '
            'the config at it (cfg.'
            'train_dataloader.dataset.data_root=PATH, and the same for '
            'val_dataloader and test_dataloader)')


def dataset_classes(dataset_cfg: dict) -> Optional[Tuple[str, ...]]:
    """The class names a data set config gives, reading none of its data.

    The data set is built with ``lazy_init=True`` and no pipeline, so its
    metainfo comes from the class (``METAINFO``, ``num_classes``) and the
    config (``classes``, ``metainfo``) alone: nothing under ``data_root`` is
    opened, and it need not exist.

    Args:
        dataset_cfg (dict): A data set config (``type`` and arguments).

    Returns:
        tuple[str] | None: The class names, or None when only the data on
        disk would tell (e.g. a ``CustomDataset`` without ``classes``).
    """
    cfg = dict(dataset_cfg, lazy_init=True, pipeline=[])
    cfg.pop('indices', None)
    classes = DATASETS.build(cfg).metainfo.get('classes')
    return tuple(classes) if classes else None
