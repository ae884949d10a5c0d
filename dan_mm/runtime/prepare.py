"""Prepare a built model for inference, one way for every caller.

:class:`~dan_mm.inference.FERInferencer`, the benchmarks and the deployment
tools all call :func:`prepare_for_inference`: eval mode, the device, the
deploy form (fused attention heads), the channels-last memory format and
the precision, checked before any of it runs. :func:`inference_inputs` puts
a batch into the memory format the prepared model expects.
"""
from typing import Optional, Union

import torch
import torch.nn as nn

from ..utils.errors import ConfigError
from ..utils.precision import precision_dtype


def prepare_for_inference(
        model: nn.Module,
        deploy: bool = False,
        channels_last: bool = False,
        precision: str = 'fp32',
        device: Optional[Union[str, torch.device]] = None) -> nn.Module:
    """Put ``model`` into the form it runs inference in (in place).

    Args:
        model (nn.Module): A built model (a :class:`~dan_mm.models.DAN` or
            any mmpretrain classifier).
        deploy (bool): Fuse DAN's attention heads (``switch_to_deploy()``).
            Defaults to False.
        channels_last (bool): Weights (and, through
            :func:`inference_inputs`, inputs) in the NHWC memory format.
            DAN keeps the flag itself (``model.channels_last``), so its own
            ``logits``/``attention_maps`` format their inputs. Defaults to
            False.
        precision (str): ``'fp32'``, ``'fp16'`` or ``'bf16'``; checked here,
            applied by :func:`dan_mm.utils.precision.autocast` at run time.
            Defaults to ``'fp32'``.
        device (str | torch.device, optional): Move the model there.
            Defaults to None (where it is).

    Returns:
        nn.Module: ``model`` itself, in eval mode.

    Raises:
        ConfigError: An unknown ``precision``, or ``deploy`` for a model
            without ``switch_to_deploy()``.
    """
    precision_dtype(precision)
    if deploy and not hasattr(model, 'switch_to_deploy'):
        raise ConfigError(f'deploy=True: {type(model).__name__} has no '
                          'switch_to_deploy(); use model type "DAN" or '
                          'deploy=False')
    if device is not None:
        model.to(device)
    model.eval()
    if deploy and not getattr(model, 'deploy', False):
        model.switch_to_deploy()
    if channels_last:
        model.channels_last = True
        model.to(memory_format=torch.channels_last)
    return model


def inference_inputs(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """``inputs`` ``(N, C, H, W)`` in ``model``'s memory format."""
    if getattr(model, 'channels_last', False) and inputs.dim() == 4:
        return inputs.contiguous(memory_format=torch.channels_last)
    return inputs
