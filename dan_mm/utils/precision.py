"""Inference precision, spelled one way everywhere: fp32, fp16 or bf16.

The tools take ``--precision {fp32,fp16,bf16}``
(:func:`dan_mm.utils.cli.add_precision_argument`) and the Python API
``precision='bf16'``; both mean autocast to that type (fp32: none).
Training keeps mmpretrain's ``--amp``.
"""
from contextlib import nullcontext
from typing import ContextManager, Optional, Union

import torch

from .errors import ConfigError

PRECISIONS = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def precision_dtype(precision: str) -> Optional[torch.dtype]:
    """The autocast dtype of ``precision`` (None for fp32).

    Raises:
        ConfigError: ``precision`` is not one of :data:`PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f'precision must be one of {list(PRECISIONS)}, '
                          f'got "{precision}"')
    return PRECISIONS[precision]


def autocast(device: Union[str, torch.device],
             precision: str) -> ContextManager:
    """Autocast to ``precision`` on ``device``'s type; fp32 does nothing.

    Args:
        device (str | torch.device): Where the model runs.
        precision (str): ``'fp32'``, ``'fp16'`` or ``'bf16'``.

    Returns:
        A context manager.
    """
    dtype = precision_dtype(precision)
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)
