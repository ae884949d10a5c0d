"""Which backend classifies the faces: one rule for every source.

A photo, a folder, a video, a camera and the web demo all run the same
network on face crops, so the choice does not depend on the source. On the
CPU in fp32, ONNX Runtime on the deploy export is faster than PyTorch and
gives the same classes (logits within 1e-4, checked at export); anywhere
else (a GPU, a reduced precision) PyTorch is the one that runs. Attention
maps are PyTorch's: when they are asked for, PyTorch classifies too, so the
backbone runs once.
"""
from typing import Optional, Union

import torch

from ..utils.errors import ConfigError

BACKENDS = ('pytorch', 'onnxruntime')


def on_cpu(device: Union[str, torch.device, None]) -> bool:
    """Whether ``device`` (None: CUDA if there is one) is the CPU."""
    if device is None:
        return not torch.cuda.is_available()
    return torch.device(device).type == 'cpu'


def choose_backend(backend: Optional[str] = None,
                   onnx_file: Optional[str] = None,
                   device: Union[str, torch.device, None] = None,
                   precision: str = 'fp32',
                   return_maps: bool = False) -> str:
    """The backend to classify faces with, whatever the source.

    Args:
        backend (str, optional): Asked for explicitly; it wins
            (``'pytorch'`` always means PyTorch).
        onnx_file (str, optional): A given ONNX file: ONNX Runtime.
        device (str | torch.device, optional): Where the model runs.
        precision (str): The autocast precision. Defaults to ``'fp32'``.
        return_maps (bool): Attention maps are wanted (PyTorch's).

    Returns:
        str: ``'onnxruntime'`` on the CPU in fp32 without maps (faster,
        same results), else ``'pytorch'``.
    """
    if backend is not None:
        return backend
    if onnx_file is not None:
        return 'onnxruntime'
    if on_cpu(device) and precision == 'fp32' and not return_maps:
        return 'onnxruntime'
    return 'pytorch'


def check_backend(backend: Optional[str], onnx_file: Optional[str],
                  precision: str, device: Union[str, torch.device,
                                                None]) -> str:
    """The backend an inferencer was asked for, checked before the model
    loads: ``backend``, else ``'onnxruntime'`` with ``onnx_file``, else
    ``'pytorch'``.

    Raises:
        ConfigError: An unknown backend, or ONNX Runtime with a reduced
            precision or off the CPU.
    """
    backend = backend or ('onnxruntime' if onnx_file else 'pytorch')
    if backend not in BACKENDS:
        raise ConfigError(f'unknown backend "{backend}": use one of '
                          f'{", ".join(BACKENDS)}')
    if backend == 'onnxruntime':
        if precision != 'fp32':
            raise ConfigError(f"precision='{precision}' is PyTorch's: use "
                              "backend='pytorch' (an int8 ONNX file is "
                              'the fast reduced precision)')
        if device is not None and torch.device(device).type != 'cpu':
            raise ConfigError(f'ONNX Runtime runs on the CPU here, not '
                              f"{device}: use device='cpu' or "
                              "backend='pytorch'")
    return backend
