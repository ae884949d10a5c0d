"""Export a DAN checkpoint to ONNX (dynamic batch), check it with onnxruntime.

Everything after parsing is :func:`dan_mm.runtime.export_checkpoint` (the
graph's input and output are described there).

Example:
    python tools/deployment/pytorch2onnx.py configs/dan_r18_rafdb.py \
        dan_r18_rafdb.pth dan_r18_rafdb.onnx --deploy
"""
import argparse

from mmengine.config import DictAction

from dan_mm.runtime import export_checkpoint
from dan_mm.utils.cli import (add_debug_argument,
                              add_trust_checkpoint_argument,
                              check_checkpoint_file, exit_on_user_error)
from dan_mm.utils.config import load_config


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
    result = export_checkpoint(cfg, args.checkpoint, args.out, args.deploy,
                               args.image_size, args.opset, not args.no_verify)
    size = result['image_size']
    print(f'Exported {args.out} (input 3x{size}x{size}, dynamic batch, '
          f'opset {args.opset})')
    if result['max_abs_diff'] is not None:
        print('onnxruntime vs PyTorch, batch 1 and 3: max abs diff '
              f'{result["max_abs_diff"]:.2e}')


if __name__ == '__main__':
    main()
