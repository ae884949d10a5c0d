"""End-to-end video speed: frames/s and ms per stage (decode, detect, align,
classify, draw/write) on generated 640x480 clips with 1 and 5 real faces, in
fp32, on the fast torch path, in ONNX Runtime, in the pipelined loop
``tools/infer.py`` runs on a video on the CPU, and on a given int8 ONNX file
(see :mod:`dan_mm.analysis.video_benchmark`). Weights are random (the int8
file's are its own). ``x fp32`` is the speed-up over PyTorch fp32.

Examples:
    python tools/analysis_tools/benchmark_video.py configs/dan_r18_rafdb.py
    python tools/analysis_tools/benchmark_video.py configs/dan_r18_rafdb.py \
        --faces 1 --paths fast onnxruntime --frames 200 --out video.json
    python tools/analysis_tools/benchmark_video.py configs/dan_r18_rafdb.py \
        --onnx dan.int8.onnx --paths fp32 pipelined int8_pipelined
"""
import argparse
from typing import Optional, Sequence

import torch
from mmengine.config import DictAction

from dan_mm.analysis.video_benchmark import (PATHS, benchmark_video,
                                             environment, format_rows,
                                             write_json)
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              exit_on_user_error)
from dan_mm.utils.config import load_config


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Benchmark video inference',
        formatter_class=DefaultsHelpFormatter)
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
        '--paths',
        nargs='+',
        choices=PATHS,
        default=None,
        help='default: all (int8 ones with --onnx)')
    parser.add_argument(
        '--onnx',
        metavar='FILE',
        help='an ONNX file of the config\'s model (int8) for the int8 paths')
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
                           args.detect_every, args.onnx)
    print(format_rows(rows))
    if args.out:
        write_json(
            args.out,
            rows,
            config=args.config,
            frames=args.frames,
            batch_size=args.batch_size,
            detect_every=args.detect_every,
            onnx=args.onnx)
        print(f'results in {args.out}')


if __name__ == '__main__':
    main()
