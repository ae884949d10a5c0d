"""Inference speed of DAN: whole model, MAN+AFN alone, backbone alone.

Prints images/s and latency percentiles (p50 / p90 / p99, ms per batch)
after warm-up, for:

- ``model``: the whole forward (normalised images -> logits);
- ``neck+head``: MAN and AFN on precomputed backbone features (what
  ``--deploy`` speeds up);
- ``backbone``: the FCN alone, the floor of the whole model;
- ``onnxruntime``: with ``--onnx FILE``, the exported whole model run by
  onnxruntime on the same input.

``--agreement`` instead runs a checkpoint over the config's test set in fp32
and in bf16 (or fp16) and reports how often the predicted class agrees.

Examples:
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --batch-size 8 --iters 100 --warmup 20
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --deploy --channels-last --precision bf16
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --checkpoint dan.pth --agreement --max-samples 2000
    python tools/analysis_tools/benchmark.py configs/dan_r18_rafdb.py \
        --deploy --onnx dan_deploy.onnx   # also onnxruntime on that export
"""
import argparse
import sys
import time
from contextlib import nullcontext

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmpretrain.apis import get_model

import dan_mm  # noqa: F401  (registers DAN; torch>=2.6 checkpoint loading)
from dan_mm.utils.tool_utils import add_trust_checkpoint_argument, load_config


def parse_args():
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
    parser.add_argument(
        '--precision',
        choices=['fp32', 'fp16', 'bf16'],
        default='fp32',
        help='fp16/bf16: autocast to float16 (GPU) or bfloat16 (CPU or '
        'GPU); with --agreement the low precision, bf16 by default')
    parser.add_argument('--image-size', type=int, default=224)
    parser.add_argument(
        '--iters', type=int, default=50, help='timed iterations per part')
    parser.add_argument(
        '--warmup', type=int, default=10, help='untimed iterations first')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch.set_num_threads (default: torch\'s)')
    parser.add_argument(
        '--agreement',
        action='store_true',
        help='fp32 vs bf16/fp16 predicted-class agreement '
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
    args = parser.parse_args()
    if args.agreement and not args.checkpoint:
        parser.error('--agreement needs --checkpoint')
    return args


def autocast(device: torch.device, dtype):
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def time_part(fn, inputs, iters: int, warmup: int, device, dtype):
    """Per-iteration latencies (s) of ``fn(inputs)``, after warm-up."""
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    latencies = []
    with torch.no_grad(), autocast(device, dtype):
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


def benchmark(model, args, device, dtype) -> None:
    memory_format = torch.channels_last if args.channels_last else \
        torch.contiguous_format
    x = torch.randn(
        args.batch_size, 3, args.image_size, args.image_size,
        device=device).contiguous(memory_format=memory_format)
    with torch.no_grad(), autocast(device, dtype):
        feats = model.backbone(x)
    parts = [
        ('model', lambda t: model(t, mode='tensor'), x),
        ('neck+head', lambda f: model.head(model.neck(f)), feats),
        ('backbone', model.backbone, x),
    ]
    print(f'{"part":<10} {"throughput":>14}   latency per batch of '
          f'{args.batch_size}')
    for name, fn, inputs in parts:
        report(name,
               time_part(fn, inputs, args.iters, args.warmup, device, dtype),
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


def agreement(model, cfg, args, device, dtype) -> None:
    """Predicted-class agreement of fp32 and ``dtype`` over the test set."""
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
            with autocast(device, dtype):
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
    low = 'fp16' if dtype == torch.float16 else 'bf16'
    print(f'{total} images: fp32 vs {low} predicted class agrees on '
          f'{100 * same / total:.2f}%; top-1 fp32 {100 * right32 / total:.2f}%'
          f', {low} {100 * right_low / total:.2f}%; max |prob diff| '
          f'{max_diff:.4f}')


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    device = torch.device(args.device)
    model = get_model(cfg, pretrained=args.checkpoint or False, device=device)
    if not args.checkpoint:
        model.init_weights()
    model.eval()
    if args.deploy:
        model.switch_to_deploy()
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
    dtype = dict(fp16=torch.float16, bf16=torch.bfloat16).get(args.precision)
    if args.agreement and dtype is None:
        dtype = torch.bfloat16

    cpu = ''
    if device.type == 'cpu':
        cpu = f', {torch.backends.cpu.get_cpu_capability()}'
    else:
        cpu = f', {torch.cuda.get_device_name(device)}'
    print(f'torch {torch.__version__}, device {device}{cpu}, '
          f'{torch.get_num_threads()} threads; deploy={args.deploy}, '
          f'channels_last={args.channels_last}, '
          f'precision={"fp32" if dtype is None else str(dtype)[6:]}, '
          f'batch {args.batch_size}, {args.image_size}x{args.image_size}, '
          f'{args.warmup} warm-up + {args.iters} timed iterations')
    if args.agreement:
        agreement(model, cfg, args, device, dtype)
    else:
        benchmark(model, args, device, dtype)


if __name__ == '__main__':
    sys.exit(main())
