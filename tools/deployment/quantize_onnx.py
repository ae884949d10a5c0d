"""Quantise a DAN checkpoint to int8 ONNX, kept only if it agrees with fp32.

Everything after parsing is :func:`dan_mm.deployment.quantize_onnx`: the
deploy form is exported to ONNX, calibrated with ONNX Runtime's static QDQ
quantisation on faces from the training split (or ``--calib-dir``), and
compared with fp32 on the config's test split; the comparison goes to
``<out without .onnx>.json``.

Example:
    python tools/deployment/quantize_onnx.py configs/dan_r18_rafdb.py \
        dan_r18_rafdb.pth --out dan_r18_rafdb.int8.onnx
"""
import argparse

from mmengine.config import DictAction

from dan_mm.deployment import quantize_onnx
from dan_mm.deployment.quantize import CALIB_METHODS, report_path
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              add_trust_checkpoint_argument,
                              exit_on_user_error)
from dan_mm.utils.config import load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Quantise DAN to int8 ONNX and measure its agreement '
        'with fp32 on the test split',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='int8 ONNX file to write')
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        '--calib-dir',
        default=None,
        help='calibrate on the face images of this folder (resized as the '
        'test pipeline does)')
    source.add_argument(
        '--calib-split',
        choices=['train'],
        default='train',
        help='calibrate on the config\'s training split, read through the '
        'test pipeline (default)')
    parser.add_argument(
        '--num-calib',
        type=int,
        default=64,
        help='calibration faces (default: 64)')
    parser.add_argument(
        '--calib-method',
        choices=list(CALIB_METHODS),
        default='minmax',
        help='activation ranges from the min/max or from a percentile of '
        'the calibration activations (default: minmax)')
    parser.add_argument(
        '--min-agreement',
        type=float,
        default=0.99,
        help='keep the model only if its predicted class is fp32\'s on at '
        'least this fraction of the test faces (default: 0.99)')
    parser.add_argument(
        '--threads',
        type=int,
        default=2,
        help='ONNX Runtime threads for the comparison (default: 2)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_argument(parser)
    add_trust_checkpoint_argument(parser)
    return parser.parse_args(argv)


@exit_on_user_error
def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    quantize_onnx(
        cfg,
        args.checkpoint,
        args.out,
        calib_dir=args.calib_dir,
        calib_split=args.calib_split,
        num_calib=args.num_calib,
        calib_method=args.calib_method,
        min_agreement=args.min_agreement,
        threads=args.threads)
    print(f'Wrote {args.out} and {report_path(args.out)}')


if __name__ == '__main__':
    main()
