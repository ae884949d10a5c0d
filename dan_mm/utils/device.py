"""Check a device name before anything is built on it."""
from typing import Optional, Union

import torch

from .errors import DeviceError


def check_device(
        device: Union[str, torch.device, None]) -> Optional[torch.device]:
    """The device ``device`` names, if this machine has it.

    Without the check, ``cuda:0`` on a machine without CUDA fails deep in
    PyTorch's lazy CUDA init with a long traceback, after the model was
    built.

    Args:
        device (str | torch.device, optional): e.g. ``'cpu'``, ``'cuda'``,
            ``'cuda:1'``, ``'mps'``. None passes (the caller's default).

    Returns:
        torch.device | None: The parsed device (None for None).

    Raises:
        DeviceError: A malformed name (``'gpu0'``), a device type this
            machine lacks, or a CUDA index past the last GPU.
    """
    if device is None:
        return None
    text = str(device).strip()
    try:
        dev = torch.device(text) if not isinstance(device,
                                                   torch.device) else device
    except (RuntimeError, ValueError):
        raise DeviceError(
            f'device={text!r} is not a device name: use cpu, cuda, '
            'cuda:<index> (e.g. cuda:0) or mps') from None
    if dev.type == 'cpu':
        return dev
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device='{text}': CUDA is not available on this machine "
                "(torch.cuda.is_available() is False); use device='cpu'")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise DeviceError(
                f"device='{text}': this machine has {count} CUDA device(s) "
                f'(cuda:0 to cuda:{count - 1}); pick one of them, or set '
                'CUDA_VISIBLE_DEVICES to the GPUs you mean')
        return dev
    backend = getattr(torch.backends, dev.type, None) or getattr(
        torch, dev.type, None)
    available = getattr(backend, 'is_available', None)
    if available is None or not available():
        raise DeviceError(f"device='{text}': {dev.type} is not available on "
                          "this machine; use device='cpu'")
    return dev
