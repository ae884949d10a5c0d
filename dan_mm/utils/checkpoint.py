"""Make mmengine 0.10.x load its own checkpoints on torch >= 2.6.

torch 2.6 switched ``torch.load`` to ``weights_only=True``. mmengine 0.10.7
calls it without the argument, and its checkpoints hold more than tensors
(the message hub's ``HistoryBuffer``, numpy scalars, the config text), so
resume, ``load_from``, ``runner.test()`` and ``mim test`` fail with
``UnpicklingError``. Importing :mod:`dan_mm` re-registers mmengine's loader for
local paths with the pre-2.6 behaviour. Like mmengine itself always did, this
unpickles the file in full: load only checkpoints you trust.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from .errors import CheckpointNotFoundError


def load_from_local(filename: str, map_location=None) -> dict:
    """Load a local checkpoint file the way mmengine expects (full unpickle).

    Args:
        filename (str): Path of the checkpoint file.
        map_location (str | torch.device, optional): Same as
            :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise CheckpointNotFoundError(f'checkpoint not found: {filename}')
    return torch.load(filename, map_location=map_location, weights_only=False)


def register_checkpoint_loader() -> None:
    """Override mmengine's local-file scheme (prefix ``''``)."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
