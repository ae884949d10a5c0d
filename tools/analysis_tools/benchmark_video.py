"""End-to-end video speed: frames/s and ms per stage (decode, detect, align,
classify, draw/write) on generated 640x480 clips with 1 and 5 real faces, in
fp32, on the fast torch path and in ONNX Runtime (see
:mod:`dan_mm.analysis.video_benchmark`). Weights are random.

Examples:
    python tools/analysis_tools/benchmark_video.py configs/dan_r18_rafdb.py
    python tools/analysis_tools/benchmark_video.py configs/dan_r18_rafdb.py \
        --faces 1 --paths fast onnxruntime --frames 200 --out video.json
"""
import argparse
from typing import Optional, Sequence

import torch
from mmengine.config import DictAction

from dan_mm.analysis.video_benchmark import (PATHS, benchmark_video,
                                             environment, format_rows,
                                             write_json)
from dan_mm.utils.cli import add_debug_argument, exit_on_user_error
from dan_mm.utils.config import load_config


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description='Benchmark video inference')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        '--frames', type=int, default=100, help='frames per clip')
    parser.add_argument(
        '--faces',
        type=int,
        nargs='+',
        default=[1, 5],
        help='a clip with each number of faces')
    parser.add_argument(
        '--paths', nargs='+', choices=PATHS, default=list(PATHS))
    parser.add_argument(
        '--batch-size',
        type=int,
        default=8,
        help='frames per batch, as tools/infer.py')
    parser.add_argument(
        '--warmup', type=int, default=2, help='untimed frames first')
    parser.add_argument(
        '--detector', help='face detector (default: the inferencer\'s)')
    parser.add_argument(
        '--detect-every',
        type=int,
        default=1,
        help='detect faces every N frames, track in between')
    parser.add_argument(
        '--threads', type=int, help='torch.set_num_threads (and onnxruntime)')
    parser.add_argument('--out', help='also write the results to this JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    for name in ('frames', 'batch_size', 'detect_every'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if min(args.faces) < 1:
        parser.error('--faces must be >= 1')
    return args


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    env = environment()
    print(', '.join(f'{k} {v}' for k, v in env.items()) +
          f'; {args.frames} frames 640x480, batch {args.batch_size}, '
          f'detection every {args.detect_every} frame(s)')
    rows = benchmark_video(cfg, args.faces, args.paths, args.frames,
                           args.batch_size, args.warmup, args.detector,
                           args.detect_every)
    print(format_rows(rows))
    if args.out:
        write_json(
            args.out,
            rows,
            config=args.config,
            frames=args.frames,
            batch_size=args.batch_size,
            detect_every=args.detect_every)
        print(f'results in {args.out}')


if __name__ == '__main__':
    main()
