"""Shared test helpers: the repository, small DAN models and checkpoints, a
face photo, a checkpoint that runs code, a local HTTP server and faking a
distributed rank. Tools run through :func:`tool_runner.run_tool`."""
import contextlib
import copy
import functools
import http.server
import importlib.util
import json
import os.path as osp
import pathlib
import sys
import threading
from unittest import mock

import cv2
import numpy as np
import torch
from matplotlib import cbook
from mmengine.config import Config
from mmpretrain.registry import MODELS
from tool_runner import REPO

# 80x80 test pipeline (3x3 final feature map): the cheapest shipped config.
CONFIG = osp.join(REPO, 'configs', 'dan_r18_synthfer.py')
CLASSES = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger',
           'Neutral')


def build_model(config=CONFIG,
                seed=0,
                num_classes=None,
                init=True,
                random_bn=True,
                channels_last=False,
                **neck):
    """A DAN from ``config``, in eval mode.

    By default it has the reference init and non-trivial BN statistics in
    the neck (so that BN folding is really exercised). The backbone and AFN
    keep their init, so logits stay O(10) as in a trained model and a 1e-4
    tolerance means float32 rounding.

    Each distinct model is built once per session and copied: mmengine's
    ``init_weights`` costs about a second of CPU here. The copy and the
    torch RNG state afterwards are those of a fresh build.

    Args:
        config (str): Config file. Defaults to :data:`CONFIG`.
        seed (int): Torch seed of the init. Defaults to 0.
        num_classes (int, optional): Override ``model.head.num_classes``.
        init (bool): Call ``init_weights()`` (the runner's init).
            Defaults to True.
        random_bn (bool): Randomise the neck's BN statistics and affine
            parameters. Defaults to True.
        channels_last (bool): The model's channels-last switch.
            Defaults to False.
        **neck: Overrides of ``model.neck`` (e.g. ``num_heads=1``).
    """
    model_cfg = copy.deepcopy(_model_config(config))
    model_cfg['neck'].update(neck)
    if num_classes is not None:
        model_cfg['head']['num_classes'] = num_classes
    if channels_last:
        model_cfg['channels_last'] = True
    # Keyed by the model config itself: overrides equal to the config's
    # own values, or two configs of one model, share a build.
    key = (json.dumps(model_cfg, sort_keys=True, default=repr), seed, init)
    if key not in _BUILT:
        torch.manual_seed(seed)
        built = MODELS.build(model_cfg)
        if init:
            built.init_weights()
        _BUILT[key] = built, torch.get_rng_state()
    model, rng_state = _BUILT[key]
    model = copy.deepcopy(model)
    torch.set_rng_state(rng_state)
    if random_bn:
        randomize_bn(model.neck, seed)
    return model.eval()


_BUILT = {}  # build_model's models, with the torch RNG state after each


@functools.lru_cache(maxsize=None)
def _model_config(config):
    return Config.fromfile(config).model.to_dict()


def randomize_bn(module, seed=0):
    """Random running statistics and affine parameters in every BN."""
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)


def save_checkpoint(model, path, classes=CLASSES):
    """Save ``model`` as the tools do (state dict + class names)."""
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {
                'dataset_meta': {
                    'classes': list(classes)
                }
            }
        }, str(path))
    return str(path)


def face_photo(width=128):
    """A real photo with one frontal face: Grace Hopper, the sample image
    shipped with matplotlib (US Navy photo, public domain). BGR uint8."""
    img = cv2.imread(
        cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))
    height = round(width * img.shape[0] / img.shape[1])
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def faces_photo(copies=2, width=128):
    """``copies`` of :func:`face_photo` side by side, every other one
    mirrored: a photo with that many faces, found left to right. BGR."""
    img = face_photo(width)
    return np.concatenate(
        [img if i % 2 == 0 else img[:, ::-1] for i in range(copies)], axis=1)


HARNESS = osp.join(REPO, '.ci', 'gpu')


def import_harness(name):
    """Import a module of the GPU check (``.ci/gpu/<name>.py``): a
    development harness, deliberately not a package of the wheel."""
    sys.path.insert(0, HARNESS)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(HARNESS)


def error_lines(stderr):
    """stderr without the third-party warnings every tool prints."""
    return [line for line in stderr.splitlines() if line.startswith('error:')]


class TouchOnLoad:
    """Stands for code hidden in a checkpoint: unpickling it creates
    ``path`` (``pathlib.Path.touch``), so a test can see whether it ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.path), )


def save_booby_trapped_checkpoint(checkpoint, path, marker):
    """Save ``checkpoint`` (a dict) with a :class:`TouchOnLoad` ``marker``
    in its ``meta``: loading it in full creates ``marker``."""
    checkpoint = dict(checkpoint)
    checkpoint['meta'] = dict(
        checkpoint.get('meta') or {}, note=TouchOnLoad(marker))
    torch.save(checkpoint, str(path))
    return str(path)


@contextlib.contextmanager
def serve_directory(root):
    """Serve ``root`` over HTTP on 127.0.0.1 while in the block.

    Yields:
        str: The base URL, ``http://127.0.0.1:<port>``.
    """

    class QuietHandler(http.server.SimpleHTTPRequestHandler):

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05, ), daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sampler_on_rank(dataset, rank, world_size, **kwargs):
    """A ClassBalancedSampler built as on ``rank`` of ``world_size``."""
    from dan_mm.datasets import ClassBalancedSampler
    path = 'dan_mm.datasets.samplers.class_balanced_sampler.get_dist_info'
    with mock.patch(path, return_value=(rank, world_size)):
        return ClassBalancedSampler(dataset, **kwargs)
