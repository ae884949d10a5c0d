"""Checks the FER data sets share."""
import os.path as osp

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
            'the config at it (--cfg-options '
            'train_dataloader.dataset.data_root=PATH, and the same for '
            'val_dataloader and test_dataloader)')
