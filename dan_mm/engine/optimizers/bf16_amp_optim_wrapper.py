"""bf16 mixed precision that also runs on CPU (mmengine's AMP does not)."""
from typing import Union

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPERS

from dan_mm.utils.errors import ConfigError


@OPTIM_WRAPPERS.register_module()
class BF16AmpOptimWrapper(AmpOptimWrapper):
    """bfloat16 autocast without loss scaling, on any device.

    mmengine 0.10.7's :class:`AmpOptimWrapper` refuses to start without an
    accelerator, although its autocast supports bf16 on CPU. bf16 keeps
    float32's exponent range, so gradients cannot underflow and no loss
    scaling is needed: the loss scaler is a disabled ``GradScaler`` (a
    pass-through), and checkpoints stay compatible with
    ``AmpOptimWrapper``'s. Everything else (``optim_context`` autocasting,
    gradient accumulation, clipping) is ``AmpOptimWrapper``'s.

    Args:
        dtype (str | torch.dtype): Autocast type. Defaults to
            ``'bfloat16'``.
        **kwargs: Keyword arguments of :class:`OptimWrapper` (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs):
        # Skip AmpOptimWrapper.__init__ (accelerator-only assertion and a
        # CUDA GradScaler); set up what its methods use.
        OptimWrapper.__init__(self, **kwargs)
        if isinstance(dtype, str):
            if dtype not in self.valid_dtypes:
                raise ConfigError(f'optim_wrapper.dtype should be any of '
                                  f'{self.valid_dtypes}, got {dtype}')
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
