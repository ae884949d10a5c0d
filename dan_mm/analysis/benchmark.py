"""Inference speed of DAN, and how often a lower precision changes its
prediction.

:func:`benchmark_speed_of_config` and :func:`benchmark_agreement` are what
``tools/analysis_tools/benchmark.py`` runs, one or the other. Both build the
model as inference does (:func:`~dan_mm.runtime.load_model` and
:func:`~dan_mm.runtime.prepare_for_inference`, set up by a
:class:`ModelSetup`). The speed run (:class:`SpeedRun`) times,
after warm-up, on random images:

- ``model``: the whole forward (normalised images -> logits);
- ``neck+head``: MAN and AFN on precomputed backbone features (what
  ``switch_to_deploy`` speeds up);
- ``backbone``: the FCN alone, the floor of the whole model;
- ``onnxruntime``: with ``onnx=FILE``, that export of the whole model run by
  onnxruntime on the CPU, on the same input, in the session
  ``tools/infer.py`` runs (:func:`~dan_mm.runtime.create_session`).

The parts are timed through DAN's public methods (``backbone_features``,
``logits_from_features``); any other classifier is timed as a whole only.
On CUDA every timed call is synchronised, so a latency is the kernels'
time, not the launch's.

The agreement run (:class:`AgreementRun`) runs a checkpoint over the
config's test set, through the config's own test pipeline, in fp32 and in a
lower precision, and counts how often the predicted class agrees; nothing is
timed.

Either returns one JSON-ready dict, headed by the environment
(:func:`~dan_mm.utils.environment.environment_record`); the tool writes it with
``--out FILE``, and the GPU check reads that instead of the printed text.
"""
import time
from dataclasses import dataclass, replace
from typing import Callable, List, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from ..models import DAN
from ..runtime import (agreement_record, create_session, inference_inputs,
                       load_model, prepare_for_inference)
from ..utils.environment import environment_record
from ..utils.errors import ConfigError
from ..utils.precision import autocast

PARTS = ('model', 'neck+head', 'backbone', 'onnxruntime')


@dataclass(frozen=True)
class ModelSetup:
    """How the benchmark builds and prepares the config's model.

    Args:
        checkpoint (str, optional): Weights to load (default: random, fine
            for speed; the agreement needs them).
        device (str): e.g. ``'cpu'``, ``'cuda:1'``. Defaults to ``'cpu'``.
        deploy (bool): Fuse the attention heads (``switch_to_deploy``).
        channels_last (bool): Weights and inputs in the NHWC memory format.
        precision (str): ``'fp32'``, ``'fp16'`` or ``'bf16'``: the autocast
            precision of the speed run, the lower precision of the
            agreement (bf16 when it is fp32).
    """
    checkpoint: Optional[str] = None
    device: str = 'cpu'
    deploy: bool = False
    channels_last: bool = False
    precision: str = 'fp32'


@dataclass(frozen=True)
class SpeedRun:
    """What a speed run times.

    Args:
        batch_size (int): Images per call. Defaults to 8.
        image_size (int): Random images of ``image_size`` squared.
        iters (int): Timed calls per part. Defaults to 50.
        warmup (int): Untimed calls first. Defaults to 10.
        onnx (str, optional): Also time this ONNX export in onnxruntime.
    """
    batch_size: int = 8
    image_size: int = 224
    iters: int = 50
    warmup: int = 10
    onnx: Optional[str] = None


@dataclass(frozen=True)
class AgreementRun:
    """Which test images an agreement run compares on.

    Args:
        batch_size (int): Images per batch. Defaults to 8.
        max_samples (int, optional): At most this many images.
    """
    batch_size: int = 8
    max_samples: Optional[int] = None


def build_benchmark_model(cfg: Config, setup: ModelSetup) -> nn.Module:
    """The config's model prepared for inference, as the benchmark runs it
    (:func:`~dan_mm.runtime.load_model`,
    :func:`~dan_mm.runtime.prepare_for_inference`).

    Without a checkpoint the weights are random (mmengine's init), and the
    config's pretrained start is not read. mmengine's log stays quiet while
    the model is built.

    Args:
        cfg (Config): The full config (``cfg.model`` is built).
        setup (ModelSetup): Checkpoint, device, deploy form, memory format
            and precision.

    Returns:
        nn.Module: The model on ``setup.device``, in eval mode.

    Raises:
        ConfigError: CUDA is asked for but not available, an unknown
            precision, or ``deploy`` for a model without
            ``switch_to_deploy()``.
    """
    device = torch.device(setup.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ConfigError(f"device='{device}': CUDA is not available here; "
                          "use device='cpu'")
    model = load_model(
        cfg, setup.checkpoint or None, device, init_weights=True)
    return prepare_for_inference(
        model,
        deploy=setup.deploy,
        channels_last=setup.channels_last,
        precision=setup.precision)


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
    CPU, in the session inference runs
    (:func:`~dan_mm.runtime.create_session`: as many threads as torch
    uses, no spinning), after warm-up.

    Args:
        path (str): The ``.onnx`` file.
        inputs (np.ndarray): Its input, shape ``(N, 3, H, W)``, float32.
        iters (int): Timed runs.
        warmup (int): Untimed runs first.

    Returns:
        np.ndarray: Shape ``(iters,)``, seconds.
    """
    session = create_session(path)
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


def benchmark_speed(model: nn.Module,
                    run: SpeedRun = SpeedRun(),
                    precision: str = 'fp32') -> List[dict]:
    """Time the whole model and, for DAN, MAN+AFN and the backbone apart.

    Args:
        model (nn.Module): Prepared for inference
            (:func:`build_benchmark_model`), on its device; the random
            inputs take its memory format.
        run (SpeedRun): Batch and image size, timed and warm-up calls, and
            an optional ONNX export to time too.
        precision (str): Autocast precision. Defaults to ``'fp32'``.

    Returns:
        list[dict]: One :func:`summarize` result per part, in
        :data:`PARTS` order.
    """
    device = next(model.parameters()).device
    x = inference_inputs(
        model,
        torch.randn(
            run.batch_size, 3, run.image_size, run.image_size, device=device))
    parts = [('model', lambda t: model(t, mode='tensor'), x)]
    if isinstance(model, DAN):
        with torch.no_grad(), autocast(device, precision):
            feats = model.backbone_features(x)
        parts += [('neck+head', model.logits_from_features, feats),
                  ('backbone', model.backbone_features, x)]
    results = [
        summarize(
            name,
            time_part(fn, inputs, run.iters, run.warmup, device, precision),
            run.batch_size) for name, fn, inputs in parts
    ]
    if run.onnx:
        latencies = time_onnx(run.onnx,
                              x.float().cpu().numpy(), run.iters, run.warmup)
        results.append(summarize('onnxruntime', latencies, run.batch_size))
    return results


def build_test_loader(cfg: Config, batch_size: int):
    """The config's test data loader, with ``batch_size``."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    init_default_scope('mmpretrain')
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.batch_size = batch_size
    return Runner.build_dataloader(loader_cfg)


def prediction_agreement(model: nn.Module,
                         loader,
                         precision: str = 'bf16',
                         max_samples: Optional[int] = None) -> dict:
    """Predicted-class agreement of fp32 and ``precision`` over a loader.

    Args:
        model (nn.Module): Prepared for inference
            (:func:`build_benchmark_model`), with its data preprocessor;
            the batches take its memory format.
        loader: Batches of the config's test pipeline
            (:func:`build_test_loader`).
        precision (str): The lower precision. Defaults to ``'bf16'``.
        max_samples (int, optional): Stop after this many images.

    Returns:
        dict: ``input_size`` ([H, W] after the pipeline), the
        :func:`~dan_mm.runtime.agreement_record` (``images``,
        ``agreement``, ``top1_fp32``, ``top1_low``: fractions) and
        ``max_prob_diff``.
    """
    device = next(model.parameters()).device
    labels, preds32, preds_low = [], [], []
    total = 0
    max_diff = 0.
    input_size = None
    with torch.no_grad():
        for data in loader:
            data = model.data_preprocessor(data, False)
            inputs = inference_inputs(model, data['inputs'])
            input_size = list(inputs.shape[-2:])
            p32 = model(inputs, mode='tensor').float().softmax(1)
            with autocast(device, precision):
                plow = model(inputs, mode='tensor').float().softmax(1)
            labels_now = torch.cat([s.gt_label
                                    for s in data['data_samples']]).to(device)
            for out, batch in ((labels, labels_now), (preds32, p32),
                               (preds_low, plow)):
                out.extend(
                    (batch if batch.dim() == 1 else batch.argmax(1)).tolist())
            max_diff = max(max_diff, (p32 - plow).abs().max().item())
            total += len(inputs)
            if max_samples and total >= max_samples:
                break
    if not total:
        raise ConfigError('the agreement needs test images: the config\'s '
                          'test set has none')
    return dict(
        **agreement_record(labels, preds32, preds_low),
        input_size=input_size,
        max_prob_diff=round(max_diff, 6))


def format_agreement(result: dict) -> str:
    """The one-line report of a :func:`benchmark_agreement` result."""
    a, low = result['agreement'], result['precision']
    return (f'{a["images"]} images: fp32 vs {low} predicted class agrees on '
            f'{100 * a["agreement"]:.2f}%; top-1 fp32 '
            f'{100 * a["top1_fp32"]:.2f}%, {low} '
            f'{100 * a["top1_low"]:.2f}%; max |prob diff| '
            f'{a["max_prob_diff"]:.4f}')


def settings_record(mode: str, model: nn.Module, setup: ModelSetup,
                    batch_size: int) -> dict:
    """The head of a result: the mode, the device, the environment
    (:func:`~dan_mm.utils.environment.environment_record`) and the model's
    setup."""
    device = next(model.parameters()).device
    env = environment_record()
    return dict(
        mode=mode,
        device=str(device),
        device_name=(torch.cuda.get_device_name(device)
                     if device.type == 'cuda' else env['cpu']),
        **env,
        model=type(model).__name__,
        precision=setup.precision,
        deploy=setup.deploy,
        channels_last=setup.channels_last,
        batch_size=batch_size)


def format_settings(result: dict) -> str:
    """The start of a report's first line, from :func:`settings_record`."""
    return (f'torch {result["torch"]}, device {result["device"]}, '
            f'{result["device_name"]} ({result["cpu_capability"]}), '
            f'{result["threads"]} threads; deploy={result["deploy"]}, '
            f'channels_last={result["channels_last"]}, '
            f'batch {result["batch_size"]}')


def benchmark_speed_of_config(cfg: Config,
                              setup: ModelSetup = ModelSetup(),
                              run: SpeedRun = SpeedRun(),
                              echo: Callable[[str], None] = print) -> dict:
    """Build the config's model and time it on random images.

    Args:
        cfg (Config): The full config.
        setup (ModelSetup): How the model is built and prepared.
        run (SpeedRun): What is timed.
        echo (Callable): Where the report's lines go. Defaults to print.

    Returns:
        dict: :func:`settings_record` with ``mode='speed'``, then
        ``input_size`` [H, W], ``warmup``, ``iters`` and ``parts`` (one
        :func:`summarize` result per part).
    """
    model = build_benchmark_model(cfg, setup)
    result = settings_record('speed', model, setup, run.batch_size)
    size = run.image_size
    echo(f'{format_settings(result)}, precision={setup.precision}, '
         f'{size}x{size} random images, {run.warmup} warm-up + '
         f'{run.iters} timed iterations')
    if not isinstance(model, DAN):
        echo(f'{type(model).__name__} is not DAN: timing the whole model '
             'only')
    parts = benchmark_speed(model, run, setup.precision)
    result.update(
        input_size=[size, size],
        warmup=run.warmup,
        iters=run.iters,
        parts=parts)
    echo(f'{"part":<10} {"throughput":>14}   latency per batch of '
         f'{run.batch_size}')
    for part in parts:
        echo(format_part(part))
    return result


def benchmark_agreement(cfg: Config,
                        setup: ModelSetup,
                        run: AgreementRun = AgreementRun(),
                        echo: Callable[[str], None] = print) -> dict:
    """How often fp32 and a lower precision predict the same class over
    the config's test set, through its own test pipeline; nothing is
    timed.

    Args:
        cfg (Config): The full config.
        setup (ModelSetup): How the model is built and prepared; it needs
            a checkpoint, and its precision is the lower one (bf16 when it
            is fp32).
        run (AgreementRun): Batch size and how many test images.
        echo (Callable): Where the report's lines go. Defaults to print.

    Returns:
        dict: :func:`settings_record` with ``mode='agreement'``, then
        ``input_size`` [H, W] (the test pipeline's), ``max_samples`` and
        ``agreement`` (:func:`prediction_agreement`).

    Raises:
        ConfigError: No checkpoint, or an empty test set.
    """
    if not setup.checkpoint:
        raise ConfigError('--agreement needs --checkpoint')
    if setup.precision == 'fp32':
        setup = replace(setup, precision='bf16')
    model = build_benchmark_model(cfg, setup)
    result = settings_record('agreement', model, setup, run.batch_size)
    loader = build_test_loader(cfg, run.batch_size)
    # the size the config's own test pipeline gives, not --image-size
    size = list(loader.dataset[0]['inputs'].shape[-2:])
    images = len(loader.dataset)
    if run.max_samples:
        images = min(images, run.max_samples)
    echo(f'{format_settings(result)}; fp32 vs {setup.precision} '
         f'predicted-class agreement over {images} test images of '
         f"{size[0]}x{size[1]} (the config's test pipeline); nothing is "
         'timed')
    result.update(
        input_size=size,
        max_samples=run.max_samples,
        agreement=prediction_agreement(model, loader, setup.precision,
                                       run.max_samples))
    echo(format_agreement(result))
    return result
