"""Small DAN checkpoints, test images and tool runners for inference tests."""
import contextlib
import functools
import http.server
import importlib.util
import os.path as osp
import pathlib
import subprocess
import sys
import threading

import cv2
import numpy as np
import torch
from conftest import REPO
from matplotlib import cbook
from mmengine.config import Config
from mmpretrain.registry import MODELS

# 80x80 test pipeline (3x3 final feature map): the cheapest shipped config.
CONFIG = f'{REPO}/configs/dan_r18_synthfer.py'


def build_model(config=CONFIG, seed=0, channels_last=False, **neck):
    """A DAN from ``config`` with the reference init and non-trivial BN
    statistics in the neck (so that BN folding is really exercised), in eval
    mode. The backbone and AFN keep their init, so logits stay O(10) as in a
    trained model and a 1e-4 tolerance means float32 rounding. ``neck``
    overrides the neck's config, ``channels_last`` is the model's switch."""
    cfg = Config.fromfile(config)
    cfg.model.neck.update(neck)
    if channels_last:
        cfg.model.channels_last = True
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    randomize_bn(model.neck, seed)
    return model.eval()


def randomize_bn(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)


def save_checkpoint(model, path):
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {
                'dataset_meta': {
                    'classes': [
                        'Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness',
                        'Anger', 'Neutral'
                    ]
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


def run_tool(script, *args):
    """Run a tools/ script; return the CompletedProcess."""
    return subprocess.run(
        [sys.executable,
         osp.join(REPO, 'tools', script), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO)


def load_tool(script):
    """Import a tools/ script (e.g. ``'misc/gpu_check.py'``) as a module."""
    path = osp.join(REPO, 'tools', script)
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
