"""Inference speed of DAN (whole model, MAN+AFN alone, backbone alone), or
fp32-vs-bf16 agreement over the test set (dan_mm.analysis:
benchmark_speed_of_config, benchmark_agreement).

Examples:
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --deploy --channels-last --batch-size 32 --out bench.json
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --device cuda --precision fp16 --batch-size 256
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --checkpoint dan.pth --agreement --max-samples 2000
"""
import argparse
import json

import torch
from mmengine.config import DictAction

from dan_mm.analysis import (AgreementRun, ModelSetup, SpeedRun,
                             benchmark_agreement, benchmark_speed_of_config)
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              add_precision_argument,
                              add_trust_checkpoint_argument,
                              check_checkpoint_file, exit_on_user_error)
from dan_mm.utils.config import load_config


def parse_args():
    parser = argparse.ArgumentParser(
        description='Benchmark DAN inference',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('--checkpoint', help='weights (default: random)')
    parser.add_argument('--deploy', action='store_true', help='fuse heads')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--channels-last', action='store_true')
    add_precision_argument(parser)
    parser.add_argument('--image-size', type=int, default=224)
    parser.add_argument('--iters', type=int, default=50, help='timed calls')
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:1')
    parser.add_argument('--threads', type=int, help='torch.set_num_threads')
    parser.add_argument(
        '--agreement',
        action='store_true',
        help='fp32 vs --precision (default bf16) predicted class over the '
        "config's test set, through its test pipeline (needs --checkpoint)")
    parser.add_argument('--max-samples', type=int, help='with --agreement')
    parser.add_argument('--onnx', help='also time this ONNX export (CPU)')
    parser.add_argument('--out', help='write the results as JSON there')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='key=value')
    add_trust_checkpoint_argument(parser)
    add_debug_argument(parser)
    args = parser.parse_args()
    if args.agreement and not args.checkpoint:
        parser.error('--agreement needs --checkpoint')
    for name in ('batch_size', 'image_size', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.warmup < 0:
        parser.error('--warmup must be >= 0')
    return args


@exit_on_user_error
def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    check_checkpoint_file(args.checkpoint)
    setup = ModelSetup(args.checkpoint, args.device, args.deploy,
                       args.channels_last, args.precision)
    if args.agreement:
        result = benchmark_agreement(
            cfg, setup, AgreementRun(args.batch_size, args.max_samples))
    else:
        result = benchmark_speed_of_config(
            cfg, setup,
            SpeedRun(args.batch_size, args.image_size, args.iters, args.warmup,
                     args.onnx))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
