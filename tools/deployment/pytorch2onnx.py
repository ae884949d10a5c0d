"""Export a DAN checkpoint to ONNX (dynamic batch), check it with onnxruntime.

The graph takes ``input``: float32 ``(N, 3, H, W)`` RGB images already
normalised with the config's data preprocessor (ImageNet mean/std:
``(img - mean) / std`` on 0-255 values), and returns ``logits``
``(N, num_classes)`` (softmax them for probabilities). N is dynamic.

Example:
    python tools/deployment/pytorch2onnx.py configs/dan_r18_rafdb.py \
        dan_r18_rafdb.pth dan_r18_rafdb.onnx --deploy
"""
import argparse
import os
import os.path as osp
import warnings

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import DictAction
from mmpretrain.apis import get_model

import dan_mm  # noqa: F401  (registers DAN; torch>=2.6 checkpoint loading)
from dan_mm.utils.tool_utils import (add_debug_argument,
                                     add_trust_checkpoint_argument,
                                     check_checkpoint_file, exit_on_user_error,
                                     load_config, naming_checkpoint,
                                     naming_config_keys)


class LogitsModel(nn.Module):
    """``model(inputs, mode='tensor')`` as a plain ``forward(inputs)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs, mode='tensor')


def test_image_size(cfg) -> int:
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
    import onnxruntime as ort
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    worst = 0.
    for batch in batch_sizes:
        x = torch.randn(batch, 3, image_size, image_size)
        with torch.no_grad():
            expected = model(x, mode='tensor').numpy()
        got = session.run(['logits'], {'input': x.numpy()})[0]
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def parse_args():
    parser = argparse.ArgumentParser(description='Export DAN to ONNX')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('out', help='ONNX file to write')
    parser.add_argument(
        '--deploy',
        action='store_true',
        help='fuse the attention heads before export')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument(
        '--image-size',
        type=int,
        default=None,
        help='default: the test pipeline\'s size')
    parser.add_argument(
        '--no-verify', action='store_true', help='skip the onnxruntime check')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_argument(parser)
    add_trust_checkpoint_argument(parser)
    return parser.parse_args()


@exit_on_user_error
def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    check_checkpoint_file(args.checkpoint, 'the CHECKPOINT argument')
    with naming_config_keys(cfg), naming_checkpoint(args.checkpoint):
        model = get_model(cfg, pretrained=args.checkpoint, device='cpu').eval()
    if args.deploy:
        model.switch_to_deploy()
    image_size = args.image_size or test_image_size(cfg)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    export(model, args.out, image_size, args.opset)
    print(f'Exported {args.out} (input 3x{image_size}x{image_size}, '
          f'dynamic batch, opset {args.opset})')
    if not args.no_verify:
        diff = verify(model, args.out, image_size)
        print(
            f'onnxruntime vs PyTorch, batch 1 and 3: max abs diff {diff:.2e}')
        if diff > 1e-4:  # an exporter bug, not the user's input
            raise RuntimeError(
                f'the ONNX model differs from PyTorch by {diff}')


if __name__ == '__main__':
    main()
