"""Inference speed of DAN: whole model, MAN+AFN alone, backbone alone.

Prints images/s and latency percentiles (p50 / p90 / p99, ms per batch)
after warm-up, for:

- ``model``: the whole forward (normalised images -> logits);
- ``neck+head``: MAN and AFN on precomputed backbone features (what
  ``--deploy`` speeds up);
- ``backbone``: the FCN alone, the floor of the whole model;
- ``onnxruntime``: with ``--onnx FILE``, the exported whole model run by
  onnxruntime on the same input.

The parts are timed through DAN's public methods (``logits``,
``backbone_features``, ``logits_from_features``); any other classifier is
timed as a whole only. On CUDA every timed call is synchronised.

``--agreement`` instead runs a checkpoint over the config's test set in fp32
and in ``--precision`` (bf16 by default) and reports how often the predicted
class agrees.

Examples:
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --batch-size 8 --iters 100 --warmup 20
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --deploy --channels-last --precision bf16
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --device cuda --precision fp16 --batch-size 256
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --checkpoint dan.pth --agreement --max-samples 2000
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --deploy --onnx dan_deploy.onnx   # also onnxruntime on that export
"""
import argparse
import time
from typing import Callable, Optional, Sequence

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmpretrain.apis import get_model

from dan_mm.models import DAN
from dan_mm.utils.cli import (add_debug_argument, add_precision_argument,
                              add_trust_checkpoint_argument,
                              check_checkpoint_file, exit_on_user_error)
from dan_mm.utils.config import load_config
from dan_mm.utils.errors import ConfigError
from dan_mm.utils.precision import autocast
from dan_mm.utils.pretrained import drop_pretrained


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description='Benchmark DAN inference')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        '--checkpoint',
        help='weights (default: random init, '
        'which is fine for speed)')
    parser.add_argument(
        '--deploy',
        action='store_true',
        help='fuse the attention heads (switch_to_deploy)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--channels-last', action='store_true')
    add_precision_argument(parser)
    parser.add_argument('--image-size', type=int, default=224)
    parser.add_argument(
        '--iters', type=int, default=50, help='timed iterations per part')
    parser.add_argument(
        '--warmup', type=int, default=10, help='untimed iterations first')
    parser.add_argument(
        '--device', default='cpu', help='e.g. cpu, cuda, cuda:1')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch.set_num_threads (default: torch\'s)')
    parser.add_argument(
        '--agreement',
        action='store_true',
        help='fp32 vs --precision (default bf16) predicted-class agreement '
        'over the config\'s test set (needs --checkpoint)')
    parser.add_argument(
        '--max-samples',
        type=int,
        default=None,
        help='with --agreement: stop after this many images')
    parser.add_argument(
        '--onnx',
        help='also time this ONNX export of the '
        'model (tools/deployment/pytorch2onnx.py) with '
        'onnxruntime on the CPU')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (e.g. '
        'test_dataloader.dataset.data_root=...)')
    add_trust_checkpoint_argument(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.agreement and not args.checkpoint:
        parser.error('--agreement needs --checkpoint')
    for name in ('batch_size', 'image_size', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.warmup < 0:
        parser.error('--warmup must be >= 0')
    return args


def time_part(fn: Callable, inputs, iters: int, warmup: int,
              device: torch.device, precision: str) -> np.ndarray:
    """Per-iteration latencies (s) of ``fn(inputs)``, after warm-up.

    On CUDA the device is synchronised around every call, so a latency is
    the kernels' time, not the launch's.
    """
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    latencies = []
    with torch.no_grad(), autocast(device, precision):
        for i in range(warmup + iters):
            sync()
            start = time.perf_counter()
            fn(inputs)
            sync()
            if i >= warmup:
                latencies.append(time.perf_counter() - start)
    return np.array(latencies)


def report(name: str, latencies: np.ndarray, batch_size: int) -> None:
    p50, p90, p99 = np.percentile(latencies * 1000, [50, 90, 99])
    print(f'{name:<10} {batch_size / latencies.mean():10.1f} img/s   '
          f'p50 {p50:8.2f} ms   p90 {p90:8.2f} ms   p99 {p99:8.2f} ms')


def benchmark(model, args, device: torch.device, precision: str) -> None:
    """Time the whole model and, for DAN, MAN+AFN and the backbone apart."""
    memory_format = torch.channels_last if args.channels_last else \
        torch.contiguous_format
    x = torch.randn(
        args.batch_size, 3, args.image_size, args.image_size,
        device=device).contiguous(memory_format=memory_format)
    parts = [('model', lambda t: model(t, mode='tensor'), x)]
    if isinstance(model, DAN):
        with torch.no_grad(), autocast(device, precision):
            feats = model.backbone_features(x)
        parts += [('neck+head', model.logits_from_features, feats),
                  ('backbone', model.backbone_features, x)]
    else:
        print(f'{type(model).__name__} is not DAN: timing the whole model '
              'only')
    print(f'{"part":<10} {"throughput":>14}   latency per batch of '
          f'{args.batch_size}')
    for name, fn, inputs in parts:
        report(
            name,
            time_part(fn, inputs, args.iters, args.warmup, device, precision),
            args.batch_size)
    if args.onnx:
        report(
            'onnxruntime',
            time_onnx(args.onnx,
                      x.float().cpu().numpy(), args.iters, args.warmup),
            args.batch_size)


def time_onnx(path: str, inputs: np.ndarray, iters: int,
              warmup: int) -> np.ndarray:
    """Per-iteration latencies (s) of an ONNX model in onnxruntime, with
    as many threads as torch uses, after warm-up."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])
    feed = {session.get_inputs()[0].name: np.ascontiguousarray(inputs)}
    latencies = []
    for i in range(warmup + iters):
        start = time.perf_counter()
        session.run(None, feed)
        if i >= warmup:
            latencies.append(time.perf_counter() - start)
    return np.array(latencies)


def agreement(model, cfg, args, device: torch.device, precision: str) -> None:
    """Predicted-class agreement of fp32 and ``precision`` over the test
    set."""
    from mmengine.runner import Runner
    init_default_scope('mmpretrain')
    cfg.test_dataloader.batch_size = args.batch_size
    loader = Runner.build_dataloader(cfg.test_dataloader)
    same = total = right32 = right_low = 0
    max_diff = 0.
    with torch.no_grad():
        for data in loader:
            data = model.data_preprocessor(data, False)
            inputs = data['inputs']
            if args.channels_last:
                inputs = inputs.contiguous(memory_format=torch.channels_last)
            p32 = model(inputs, mode='tensor').float().softmax(1)
            with autocast(device, precision):
                plow = model(inputs, mode='tensor').float().softmax(1)
            labels = torch.cat([s.gt_label
                                for s in data['data_samples']]).to(device)
            same += (p32.argmax(1) == plow.argmax(1)).sum().item()
            right32 += (p32.argmax(1) == labels).sum().item()
            right_low += (plow.argmax(1) == labels).sum().item()
            max_diff = max(max_diff, (p32 - plow).abs().max().item())
            total += len(inputs)
            if args.max_samples and total >= args.max_samples:
                break
    print(f'{total} images: fp32 vs {precision} predicted class agrees on '
          f'{100 * same / total:.2f}%; top-1 fp32 {100 * right32 / total:.2f}%'
          f', {precision} {100 * right_low / total:.2f}%; max |prob diff| '
          f'{max_diff:.4f}')


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    check_checkpoint_file(args.checkpoint)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ConfigError(f'--device {args.device}: CUDA is not available '
                          'here; use --device cpu')
    if not args.checkpoint:
        # random weights: the config's pretrained start is not needed
        drop_pretrained(cfg.model)
    model = get_model(cfg, pretrained=args.checkpoint or False, device=device)
    if not args.checkpoint:
        model.init_weights()
    model.eval()
    if args.deploy:
        if not hasattr(model, 'switch_to_deploy'):
            raise ConfigError(f'--deploy: {type(model).__name__} has no '
                              'switch_to_deploy(); use model type "DAN"')
        model.switch_to_deploy()
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    precision = args.precision
    if args.agreement and precision == 'fp32':
        precision = 'bf16'

    if device.type == 'cuda':
        where = torch.cuda.get_device_name(device)
    else:
        where = torch.backends.cpu.get_cpu_capability()
    print(f'torch {torch.__version__}, device {device}, {where}, '
          f'{torch.get_num_threads()} threads; deploy={args.deploy}, '
          f'channels_last={args.channels_last}, precision={precision}, '
          f'batch {args.batch_size}, {args.image_size}x{args.image_size}, '
          f'{args.warmup} warm-up + {args.iters} timed iterations')
    if args.agreement:
        agreement(model, cfg, args, device, precision)
    else:
        benchmark(model, args, device, precision)


if __name__ == '__main__':
    main()
