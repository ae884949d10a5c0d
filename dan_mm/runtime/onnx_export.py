"""A DAN checkpoint as ONNX (dynamic batch), checked with onnxruntime.

The graph takes ``input``: float32 ``(N, 3, H, W)`` RGB images already
normalised with the config's data preprocessor (ImageNet mean/std:
``(img - mean) / std`` on 0-255 values), and returns ``logits``
``(N, num_classes)`` (softmax them for probabilities). N is dynamic.
``tools/deployment/pytorch2onnx.py`` is the command line of
:func:`export_checkpoint`; :func:`export_verified` is the one export (and
check against PyTorch) that the ONNX cache and the int8 quantizer use too.
"""
import os
import os.path as osp
import warnings
from typing import Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from .model import load_model
from .prepare import prepare_for_inference
from .session import create_session

#: The largest difference of ONNX Runtime's logits from PyTorch's that an
#: export may show; more is an exporter bug, not the input.
MAX_ABS_DIFF = 1e-4


class LogitsModel(nn.Module):
    """``model(inputs, mode='tensor')`` as a plain ``forward(inputs)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs, mode='tensor')


def inference_image_size(cfg) -> int:
    """The square size the test pipeline resizes to (224 for RAF-DB)."""
    for transform in cfg.test_dataloader.dataset.pipeline:
        if transform['type'] == 'Resize' and 'scale' in transform:
            scale = transform['scale']
            return scale if isinstance(scale, int) else scale[0]
    return 224


def export(model: nn.Module,
           out: str,
           image_size: int,
           opset: int = 17) -> None:
    """Export ``model`` (eval) to ``out`` with a dynamic batch axis."""
    dummy = torch.randn(1, 3, image_size, image_size)
    with warnings.catch_warnings():
        # torch >= 2.9 defaults to the torch.export-based exporter, which
        # needs onnxscript; the TorchScript exporter needs nothing more.
        warnings.simplefilter('ignore', DeprecationWarning)
        # K is fixed per model: the traced `if K > 1` is a constant.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(
            LogitsModel(model).eval(), (dummy, ),
            out,
            dynamo=False,
            input_names=['input'],
            output_names=['logits'],
            dynamic_axes={
                'input': {
                    0: 'batch'
                },
                'logits': {
                    0: 'batch'
                }
            },
            opset_version=opset)


def verify(model: nn.Module, out: str, image_size: int,
           batch_sizes=(1, 3)) -> float:
    """Max abs difference of onnxruntime vs PyTorch logits."""
    session = create_session(out)
    worst = 0.
    for batch in batch_sizes:
        x = torch.randn(batch, 3, image_size, image_size)
        with torch.no_grad():
            expected = model(x, mode='tensor').numpy()
        got = session.run(['logits'], {'input': x.numpy()})[0]
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def export_verified(model: nn.Module,
                    out: str,
                    image_size: int,
                    opset: int = 17,
                    batch_sizes=(1, 3)) -> float:
    """Export ``model`` (eval) to ``out`` and check it against PyTorch.

    Args:
        model (nn.Module): The model, in the form to export (deploy or not).
        out (str): The ONNX file to write.
        image_size (int): The input side.
        opset (int): ONNX opset version. Defaults to 17.
        batch_sizes (Sequence[int]): Batches the check runs (the batch axis
            is dynamic). Defaults to ``(1, 3)``.

    Returns:
        float: The largest absolute logit difference (:func:`verify`).

    Raises:
        RuntimeError: It exceeds :data:`MAX_ABS_DIFF` (an exporter bug).
    """
    export(model, out, image_size, opset)
    diff = verify(model, out, image_size, batch_sizes)
    if diff > MAX_ABS_DIFF:
        raise RuntimeError(f'the ONNX model differs from PyTorch by {diff}')
    return diff


def export_checkpoint(cfg: Config,
                      checkpoint: str,
                      out: str,
                      deploy: bool = False,
                      image_size: Optional[int] = None,
                      opset: int = 17,
                      check: bool = True) -> dict:
    """Export the model of ``cfg`` loaded from ``checkpoint`` to ``out``.

    Args:
        cfg (Config): The model's config.
        checkpoint (str): The checkpoint to load.
        out (str): The ONNX file to write.
        deploy (bool): Fuse the attention heads first.
        image_size (int, optional): Input side. Defaults to the test
            pipeline's (:func:`inference_image_size`).
        opset (int): ONNX opset version.
        check (bool): Compare onnxruntime with PyTorch afterwards.

    Returns:
        dict: ``image_size`` and ``max_abs_diff`` (None without ``check``).

    Raises:
        CheckpointError: ``checkpoint`` is missing or does not fit.
        RuntimeError: The ONNX model's logits differ by more than
            :data:`MAX_ABS_DIFF`.
    """
    model = prepare_for_inference(load_model(cfg, checkpoint), deploy=deploy)
    image_size = image_size or inference_image_size(cfg)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    if check:
        diff = export_verified(model, out, image_size, opset)
    else:
        export(model, out, image_size, opset)
        diff = None
    return dict(image_size=image_size, max_abs_diff=diff)
