"""Inference speed of DAN, and how often a lower precision changes its
prediction.

:func:`run_benchmark` is what ``tools/analysis_tools/benchmark.py`` runs. In
its speed mode it times, after warm-up, on random images:

- ``model``: the whole forward (normalised images -> logits);
- ``neck+head``: MAN and AFN on precomputed backbone features (what
  ``switch_to_deploy`` speeds up);
- ``backbone``: the FCN alone, the floor of the whole model;
- ``onnxruntime``: with ``onnx=FILE``, that export of the whole model run by
  onnxruntime on the CPU, on the same input.

The parts are timed through DAN's public methods (``backbone_features``,
``logits_from_features``); any other classifier is timed as a whole only.
On CUDA every timed call is synchronised, so a latency is the kernels'
time, not the launch's.

In its agreement mode it runs a checkpoint over the config's test set,
through the config's own test pipeline, in fp32 and in a lower precision,
and counts how often the predicted class agrees; nothing is timed.

Either mode returns one JSON-ready dict (written with ``out=FILE``), which
the GPU check reads instead of the printed text.
"""
import contextlib
import copy
import json
import logging
import platform
import time
from typing import Callable, Iterator, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from ..models import DAN
from ..utils.errors import ConfigError
from ..utils.precision import autocast
from ..utils.pretrained import drop_pretrained

PARTS = ('model', 'neck+head', 'backbone', 'onnxruntime')


@contextlib.contextmanager
def quiet_mmengine_log(level: int = logging.WARNING) -> Iterator[None]:
    """Lower mmengine's current logger to ``level`` inside the block.

    ``init_weights()`` logs every parameter's initialisation (about 600
    lines for DAN-R18) through that logger, before a 3-line table.
    """
    logger = MMLogger.get_current_instance()
    old = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old)


def cpu_name() -> str:
    """The CPU's model name with its family and model numbers
    (``/proc/cpuinfo``; elsewhere, ``platform``'s): virtual machines often
    report only "AMD EPYC", and the family/model tell Zen 1 from Zen 4."""
    fields = {}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if not key:
                    break  # the first processor is enough
                fields.setdefault(key, value.strip())
    except OSError:
        pass
    name = fields.get('model name')
    if not name:
        return platform.processor() or platform.machine()
    if 'cpu family' in fields and 'model' in fields:
        name += f' (family {fields["cpu family"]}, model {fields["model"]})'
    return name


def build_benchmark_model(cfg: Config,
                          checkpoint: Optional[str] = None,
                          device: str = 'cpu',
                          deploy: bool = False,
                          channels_last: bool = False) -> torch.nn.Module:
    """The config's model in eval mode, as the benchmark runs it.

    Without a checkpoint the weights are random (mmengine's init), and the
    config's pretrained start is not read. mmengine's log stays quiet while
    the model is built.

    Args:
        cfg (Config): The full config (``cfg.model`` is built).
        checkpoint (str, optional): Weights to load. Defaults to None.
        device (str): e.g. ``'cpu'``, ``'cuda:1'``. Defaults to ``'cpu'``.
        deploy (bool): Fuse the attention heads (``switch_to_deploy``).
        channels_last (bool): Weights in the NHWC memory format.

    Returns:
        torch.nn.Module: The model on ``device``.

    Raises:
        ConfigError: CUDA is asked for but not available, or ``deploy`` for
            a model without ``switch_to_deploy()``.
    """
    from mmpretrain.apis import get_model
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ConfigError(f'--device {device}: CUDA is not available here; '
                          'use --device cpu')
    cfg = copy.deepcopy(cfg)
    if not checkpoint:
        # random weights: the config's pretrained start is not needed
        drop_pretrained(cfg.model)
    with quiet_mmengine_log():
        model = get_model(cfg, pretrained=checkpoint or False, device=device)
        if not checkpoint:
            model.init_weights()
    model.eval()
    if deploy:
        if not hasattr(model, 'switch_to_deploy'):
            raise ConfigError(f'--deploy: {type(model).__name__} has no '
                              'switch_to_deploy(); use model type "DAN"')
        model.switch_to_deploy()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def time_part(fn: Callable, inputs, iters: int, warmup: int,
              device: torch.device, precision: str) -> np.ndarray:
    """Per-iteration latencies (s) of ``fn(inputs)``, after warm-up.

    Args:
        fn (Callable): What to time, called as ``fn(inputs)``.
        inputs: Its argument.
        iters (int): Timed calls.
        warmup (int): Untimed calls first.
        device (torch.device): On CUDA each call is synchronised.
        precision (str): ``'fp32'``, ``'fp16'`` or ``'bf16'`` (autocast).

    Returns:
        np.ndarray: Shape ``(iters,)``, seconds.
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


def time_onnx(path: str, inputs: np.ndarray, iters: int,
              warmup: int) -> np.ndarray:
    """Per-iteration latencies (s) of an ONNX model in onnxruntime on the
    CPU, with as many threads as torch uses, after warm-up.

    Args:
        path (str): The ``.onnx`` file.
        inputs (np.ndarray): Its input, shape ``(N, 3, H, W)``, float32.
        iters (int): Timed runs.
        warmup (int): Untimed runs first.

    Returns:
        np.ndarray: Shape ``(iters,)``, seconds.
    """
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


def summarize(part: str, latencies: np.ndarray, batch_size: int) -> dict:
    """images/s and p50 / p90 / p99 latency (ms per batch) of one part."""
    p50, p90, p99 = np.percentile(latencies * 1000, [50, 90, 99])
    return dict(
        part=part,
        images_per_s=round(float(batch_size / latencies.mean()), 2),
        p50_ms=round(float(p50), 3),
        p90_ms=round(float(p90), 3),
        p99_ms=round(float(p99), 3))


def format_part(result: dict) -> str:
    """One table row of a :func:`summarize` result."""
    return (f'{result["part"]:<10} {result["images_per_s"]:10.1f} img/s   '
            f'p50 {result["p50_ms"]:8.2f} ms   p90 {result["p90_ms"]:8.2f} '
            f'ms   p99 {result["p99_ms"]:8.2f} ms')


def benchmark_speed(model: torch.nn.Module,
                    batch_size: int = 8,
                    image_size: int = 224,
                    iters: int = 50,
                    warmup: int = 10,
                    precision: str = 'fp32',
                    channels_last: bool = False,
                    onnx: Optional[str] = None) -> List[dict]:
    """Time the whole model and, for DAN, MAN+AFN and the backbone apart.

    Args:
        model (torch.nn.Module): In eval mode, on its device.
        batch_size (int): Images per call. Defaults to 8.
        image_size (int): Random images of ``image_size`` squared.
        iters (int): Timed calls per part. Defaults to 50.
        warmup (int): Untimed calls first. Defaults to 10.
        precision (str): Autocast precision. Defaults to ``'fp32'``.
        channels_last (bool): Inputs in the NHWC memory format.
        onnx (str, optional): Also time this ONNX export in onnxruntime.

    Returns:
        list[dict]: One :func:`summarize` result per part, in
        :data:`PARTS` order.
    """
    device = next(model.parameters()).device
    memory_format = (
        torch.channels_last if channels_last else torch.contiguous_format)
    x = torch.randn(
        batch_size, 3, image_size, image_size,
        device=device).contiguous(memory_format=memory_format)
    parts = [('model', lambda t: model(t, mode='tensor'), x)]
    if isinstance(model, DAN):
        with torch.no_grad(), autocast(device, precision):
            feats = model.backbone_features(x)
        parts += [('neck+head', model.logits_from_features, feats),
                  ('backbone', model.backbone_features, x)]
    results = [
        summarize(name, time_part(fn, inputs, iters, warmup, device,
                                  precision), batch_size)
        for name, fn, inputs in parts
    ]
    if onnx:
        latencies = time_onnx(onnx, x.float().cpu().numpy(), iters, warmup)
        results.append(summarize('onnxruntime', latencies, batch_size))
    return results


def build_test_loader(cfg: Config, batch_size: int):
    """The config's test data loader, with ``batch_size``."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    init_default_scope('mmpretrain')
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.batch_size = batch_size
    return Runner.build_dataloader(loader_cfg)


def prediction_agreement(model: torch.nn.Module,
                         loader,
                         precision: str = 'bf16',
                         channels_last: bool = False,
                         max_samples: Optional[int] = None) -> dict:
    """Predicted-class agreement of fp32 and ``precision`` over a loader.

    Args:
        model (torch.nn.Module): In eval mode, with its data preprocessor.
        loader: Batches of the config's test pipeline
            (:func:`build_test_loader`).
        precision (str): The lower precision. Defaults to ``'bf16'``.
        channels_last (bool): Inputs in the NHWC memory format.
        max_samples (int, optional): Stop after this many images.

    Returns:
        dict: ``images``, ``input_size`` ([H, W] after the pipeline),
        ``agree_pct``, ``top1_fp32``, ``top1_low`` (percent) and
        ``max_prob_diff``.
    """
    device = next(model.parameters()).device
    same = total = right32 = right_low = 0
    max_diff = 0.
    input_size = None
    with torch.no_grad():
        for data in loader:
            data = model.data_preprocessor(data, False)
            inputs = data['inputs']
            input_size = list(inputs.shape[-2:])
            if channels_last:
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
            if max_samples and total >= max_samples:
                break
    if not total:
        raise ConfigError('--agreement: the test set has no images')
    return dict(
        images=total,
        input_size=input_size,
        agree_pct=round(100 * same / total, 2),
        top1_fp32=round(100 * right32 / total, 2),
        top1_low=round(100 * right_low / total, 2),
        max_prob_diff=round(max_diff, 6))


def format_agreement(result: dict) -> str:
    """The one-line report of a :func:`run_benchmark` agreement result."""
    a, low = result['agreement'], result['precision']
    return (f'{a["images"]} images: fp32 vs {low} predicted class agrees on '
            f'{a["agree_pct"]:.2f}%; top-1 fp32 {a["top1_fp32"]:.2f}%, {low} '
            f'{a["top1_low"]:.2f}%; max |prob diff| '
            f'{a["max_prob_diff"]:.4f}')


def run_benchmark(cfg: Config,
                  checkpoint: Optional[str] = None,
                  device: str = 'cpu',
                  deploy: bool = False,
                  channels_last: bool = False,
                  precision: str = 'fp32',
                  batch_size: int = 8,
                  image_size: int = 224,
                  iters: int = 50,
                  warmup: int = 10,
                  agreement: bool = False,
                  max_samples: Optional[int] = None,
                  onnx: Optional[str] = None,
                  out: Optional[str] = None,
                  echo: Callable[[str], None] = print) -> dict:
    """Build the config's model and time it, or measure the agreement of
    fp32 and a lower precision over the config's test set.

    Args:
        cfg (Config): The full config.
        checkpoint (str, optional): Weights (default: random, fine for
            speed; the agreement needs them).
        device (str): Defaults to ``'cpu'``.
        deploy (bool): Fuse the attention heads first.
        channels_last (bool): Weights and inputs in NHWC.
        precision (str): Autocast precision; the agreement compares fp32
            with it (bf16 when it is fp32).
        batch_size (int): Images per call. Defaults to 8.
        image_size (int): Speed mode: random images of that size squared.
        iters (int): Speed mode: timed calls per part.
        warmup (int): Speed mode: untimed calls first.
        agreement (bool): Agreement mode instead of speed.
        max_samples (int, optional): Agreement mode: at most this many
            images.
        onnx (str, optional): Speed mode: also time this ONNX export.
        out (str, optional): Write the result as JSON there.
        echo (Callable): Where the report's lines go. Defaults to print.

    Returns:
        dict: ``mode`` (``'speed'`` or ``'agreement'``), the settings
        (``device``, ``device_name``, ``cpu``, ``cpu_capability``,
        ``threads``, ``torch``, ``precision``, ``deploy``,
        ``channels_last``, ``batch_size``, ``input_size`` [H, W]), then
        ``warmup``, ``iters`` and ``parts`` (speed) or ``max_samples`` and
        ``agreement`` (agreement).
    """
    if agreement and not checkpoint:
        raise ConfigError('--agreement needs --checkpoint')
    model = build_benchmark_model(cfg, checkpoint, device, deploy,
                                  channels_last)
    device = next(model.parameters()).device
    if agreement and precision == 'fp32':
        precision = 'bf16'
    result = dict(
        mode='agreement' if agreement else 'speed',
        device=str(device),
        device_name=(torch.cuda.get_device_name(device)
                     if device.type == 'cuda' else cpu_name()),
        cpu=cpu_name(),
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        model=type(model).__name__,
        precision=precision,
        deploy=deploy,
        channels_last=channels_last,
        batch_size=batch_size)
    settings = (f'torch {result["torch"]}, device {device}, '
                f'{result["device_name"]} '
                f'({result["cpu_capability"]}), {result["threads"]} '
                f'threads; deploy={deploy}, channels_last={channels_last}, '
                f'batch {batch_size}')
    if agreement:
        loader = build_test_loader(cfg, batch_size)
        # the size the config's own test pipeline gives, not --image-size
        size = list(loader.dataset[0]['inputs'].shape[-2:])
        images = len(loader.dataset)
        if max_samples:
            images = min(images, max_samples)
        echo(f'{settings}; fp32 vs {precision} predicted-class agreement '
             f'over {images} test images of {size[0]}x{size[1]} (the '
             "config's test pipeline); nothing is timed")
        result.update(
            input_size=size,
            max_samples=max_samples,
            agreement=prediction_agreement(model, loader, precision,
                                           channels_last, max_samples))
        echo(format_agreement(result))
    else:
        echo(f'{settings}, precision={precision}, '
             f'{image_size}x{image_size} random images, {warmup} warm-up + '
             f'{iters} timed iterations')
        if not isinstance(model, DAN):
            echo(f'{type(model).__name__} is not DAN: timing the whole '
                 'model only')
        parts = benchmark_speed(model, batch_size, image_size, iters, warmup,
                                precision, channels_last, onnx)
        result.update(
            input_size=[image_size, image_size],
            warmup=warmup,
            iters=iters,
            parts=parts)
        echo(f'{"part":<10} {"throughput":>14}   latency per batch of '
             f'{batch_size}')
        for part in parts:
            echo(format_part(part))
    if out:
        with open(out, 'w') as f:
            json.dump(result, f, indent=1)
    return result
