"""End-to-end speed of video inference: frames/s and ms per stage.

The clip is generated: a 640x480 MPEG-4 video of 1 or 5 real faces (Grace
Hopper, the sample photo matplotlib ships) moving over a textured
background, so that a real face detector finds them. Each run goes through
:class:`~dan_mm.video.VideoInferencer`, the loop ``tools/infer.py``
runs, writing the annotated MP4 as ``infer.py`` does; the stage times are
recorded by that loop (:class:`~dan_mm.video.StageTimer`):

- ``decode``: reading a frame from the file;
- ``detect``: finding the faces and their crop geometry;
- ``align``: cropping (or warping) each face and the test pipeline;
- ``classify``: the model;
- ``draw_write``: drawing the labels and encoding the annotated frame.

Paths (model weights are random: speed does not depend on them):

- ``fp32``: the model as trained, in fp32;
- ``fast``: ``switch_to_deploy()`` (fused attention heads), channels-last,
  and bf16 autocast where the CPU has native bf16 (AVX512-BF16 / AMX);
- ``onnxruntime``: the deploy model exported to ONNX and run by ONNX
  Runtime on the CPU, with as many threads as torch: the backend and session
  ``tools/infer.py`` runs (:func:`~dan_mm.runtime.build_onnx_backend`);
- ``pipelined``: the same in :class:`~dan_mm.video.PipelinedVideoInferencer`
  (decode, detect, classify and write overlap in threads), the detector and
  the classifier sharing the cores (:func:`~dan_mm.video.stage_threads`):
  what ``tools/infer.py`` runs on a video on the CPU;
- ``int8``, ``int8_pipelined``: a given ONNX file (an int8 export of
  ``tools/deployment/quantize_onnx.py``), sequential and pipelined.

In the pipelined paths the stages overlap, so the ms per stage (each
stage's busy time per frame) can add up to more than a frame's wall time.
"""
import json
import os.path as osp
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from matplotlib import cbook
from mmengine.config import Config

from ..inference import FERInferencer
from ..runtime import load_model
from ..utils.environment import environment_record
from ..utils.errors import ConfigError
from ..video import (PipelinedVideoInferencer, StageTimer, VideoInferencer,
                     stage_threads)

PATHS = ('fp32', 'fast', 'onnxruntime', 'pipelined', 'int8', 'int8_pipelined')
ONNX_FILE_PATHS = ('int8', 'int8_pipelined')  # need a given ONNX file
FRAME_SIZE = (640, 480)  # width, height


def has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (else bf16 is
    emulated and slower than fp32)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def write_face_clip(path: str,
                    num_faces: int,
                    num_frames: int,
                    fps: float = 25.) -> str:
    """Write a 640x480 clip of ``num_faces`` real faces moving.

    Args:
        path (str): The output ``.mp4`` file.
        num_faces (int): 1 (a large face crossing the frame) or more (side
            by side, each moving in its own column).
        num_frames (int): Frames to write.
        fps (float): The clip's frame rate. Defaults to 25.

    Returns:
        str: ``path``.
    """
    width, height = FRAME_SIZE
    photo = cv2.imread(
        cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))
    face_w = 200 if num_faces == 1 else min(200, width // num_faces - 16)
    face_h = round(face_w * photo.shape[0] / photo.shape[1])
    photo = cv2.resize(photo, (face_w, face_h), interpolation=cv2.INTER_AREA)
    # A smooth gradient with fixed noise: a background with some texture.
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:height, 0:width]
    background = np.stack([xs * 0.3, ys * 0.4, (xs + ys) * 0.15], -1)
    background = (background + rng.normal(0, 8, background.shape) + 40)
    background = background.clip(0, 255).astype(np.uint8)
    cell = width / num_faces
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    for t in range(num_frames):
        frame = background.copy()
        for i in range(num_faces):
            phase = 2 * np.pi * (t / 50. + i / num_faces)
            if num_faces == 1:  # left to right and back, bobbing
                x = (width - face_w) * (0.5 - 0.45 * np.cos(phase))
                y = (height - face_h) * (0.5 + 0.3 * np.sin(2 * phase))
            else:  # within its column
                x = cell * i + (cell - face_w) * (0.5 + 0.4 * np.sin(phase))
                y = (height - face_h) * (0.5 + 0.4 * np.cos(phase))
            x, y = int(round(x)), int(round(y))
            frame[y:y + face_h, x:x + face_w] = photo
        writer.write(frame)
    writer.release()
    return path


def build_video_loop(cfg: Config,
                     path: str,
                     work_dir: str,
                     detector: Optional[str] = None,
                     onnx_file: Optional[str] = None,
                     **loop_kwargs) -> VideoInferencer:
    """The video loop of ``path`` on ``cfg``'s model with random weights.

    Args:
        cfg (Config): A model config.
        path (str): One of :data:`PATHS`.
        work_dir (str): Unused (the ONNX export goes to a temporary file,
            as ``tools/infer.py`` exports a model without a checkpoint).
        detector (str, optional): The face detector; defaults to the
            inferencer's default.
        onnx_file (str, optional): The ONNX file of the ``int8`` paths.
        **loop_kwargs: ``batch_size``, ``detect_every`` of the loop.

    Returns:
        VideoInferencer: On the CPU (pipelined for the pipelined paths).
    """
    if path not in PATHS:
        raise ConfigError(f'unknown path "{path}": use one of '
                          f'{", ".join(PATHS)}')
    if path in ONNX_FILE_PATHS and onnx_file is None:
        raise ConfigError(f'path "{path}" needs --onnx FILE (an int8 '
                          'export, tools/deployment/quantize_onnx.py)')
    # Random weights with torch's default init: speed does not depend on
    # the values.
    model = load_model(cfg, None, 'cpu')
    kwargs = {} if detector is None else dict(detector=detector)
    pipelined = path.endswith('pipelined')
    if pipelined:  # the stages share the cores, as tools/infer.py does
        threads = stage_threads(torch.get_num_threads())
        kwargs.update(
            detector_threads=threads['detector'],
            num_threads=threads['classifier'])
    if path == 'fast':
        kwargs.update(
            deploy=True,
            channels_last=True,
            precision='bf16' if has_native_bf16() else 'fp32')
    elif path != 'fp32':
        # onnxruntime/pipelined: the deploy export, made as infer.py makes it
        kwargs.update(
            backend='onnxruntime',
            onnx_file=onnx_file if path in ONNX_FILE_PATHS else None)
    loop = PipelinedVideoInferencer if pipelined else VideoInferencer
    return loop(FERInferencer(model, **kwargs), **loop_kwargs)


def time_video(video: VideoInferencer,
               clip: str,
               out_file: str,
               warmup: int = 2) -> dict:
    """Run the video loop over ``clip`` once untimed for ``warmup`` frames,
    then timed over all of it.

    Returns:
        dict: ``frames``, ``faces`` (found, all frames), ``fps`` (end to
        end), ``ms`` (per frame: each stage of
        :attr:`StageTimer.STAGES`, ``other`` and ``total``) and
        ``detect_align_share`` (of a frame's time).
    """
    if warmup:
        for _ in video(clip, max_frames=warmup):
            pass
    timer = StageTimer()
    frames = faces = 0
    start = time.perf_counter()
    for result in video(clip, out_file=out_file, timer=timer):
        frames += 1
        faces += len(result['faces'])
    total = time.perf_counter() - start
    ms = {
        stage: 1000 * timer.seconds.get(stage, 0.) / frames
        for stage in StageTimer.STAGES
    }
    ms['other'] = 1000 * total / frames - sum(ms.values())
    ms['total'] = 1000 * total / frames
    return dict(
        frames=frames,
        faces=faces,
        fps=frames / total,
        ms=ms,
        detect_align_share=(ms['detect'] + ms['align']) / ms['total'])


def benchmark_video(cfg: Config,
                    num_faces: Sequence[int] = (1, 5),
                    paths: Optional[Sequence[str]] = None,
                    num_frames: int = 100,
                    batch_size: int = 8,
                    warmup: int = 2,
                    detector: Optional[str] = None,
                    detect_every: int = 1,
                    onnx_file: Optional[str] = None) -> List[Dict]:
    """Time the video loop on generated clips, per number of faces and path.

    Args:
        cfg (Config): The model config.
        num_faces (Sequence[int]): A clip per entry, with that many faces.
            Defaults to ``(1, 5)``.
        paths (Sequence[str], optional): From :data:`PATHS`. Defaults to
            all (the ``int8`` ones with ``onnx_file`` only).
        num_frames (int): Frames per clip. Defaults to 100.
        batch_size (int): Frames per batch (``tools/infer.py``'s
            ``--batch-size``, default 8). Defaults to 8.
        warmup (int): Untimed frames first. Defaults to 2.
        detector (str, optional): The face detector; defaults to the
            inferencer's.
        detect_every (int): Detect faces every N frames and hold the
            tracked boxes in between. Defaults to 1 (every frame).
        onnx_file (str, optional): The ONNX file (int8) of the ``int8``
            paths. Defaults to None.

    Returns:
        list[dict]: Per clip and path, ``num_faces``, ``path``,
        ``detect_every`` and :func:`time_video`'s keys.
    """
    if paths is None:
        paths = [p for p in PATHS if onnx_file or p not in ONNX_FILE_PATHS]
    rows = []
    with tempfile.TemporaryDirectory() as work_dir:
        videos = {
            path:
            build_video_loop(
                cfg,
                path,
                work_dir,
                detector,
                onnx_file,
                batch_size=batch_size,
                detect_every=detect_every)
            for path in paths
        }
        for n in num_faces:
            clip = write_face_clip(
                osp.join(work_dir, f'faces{n}.mp4'), n, num_frames)
            for path, video in videos.items():
                row = dict(num_faces=n, path=path, detect_every=detect_every)
                row.update(
                    time_video(video, clip, osp.join(work_dir,
                                                     'annotated.mp4'), warmup))
                rows.append(row)
    return rows


def format_rows(rows: List[Dict]) -> str:
    """The results as a table, one line per clip and path; ``x fp32`` is
    the frames/s over the ``fp32`` path's on the same clip (PyTorch, what
    ``tools/infer.py --backend pytorch`` runs)."""
    stages = StageTimer.STAGES + ('other', )
    base = {r['num_faces']: r['fps'] for r in rows if r['path'] == 'fp32'}
    lines = [
        f'{"faces":>5} {"path":<14} {"frames/s":>8} {"x fp32":>6} ' +
        ' '.join(f'{s:>10}' for s in stages) + f' {"det+align":>9}'
    ]
    for row in rows:
        ratio = row['fps'] / base[row['num_faces']] \
            if row['num_faces'] in base else float('nan')
        lines.append(f'{row["num_faces"]:>5} {row["path"]:<14} '
                     f'{row["fps"]:>8.1f} {ratio:>6.2f} ' +
                     ' '.join(f'{row["ms"][s]:>7.1f} ms' for s in stages) +
                     f' {100 * row["detect_align_share"]:>8.0f}%')
    return '\n'.join(lines)


def environment() -> dict:
    """What the numbers were measured on: :func:`environment_record`, with
    whether bf16 is native and OpenCV's version (it decodes and encodes)."""
    return dict(
        environment_record(),
        native_bf16=has_native_bf16(),
        opencv=cv2.__version__)


def write_json(path: str, rows: List[Dict], **extra) -> None:
    """Write the environment, ``extra`` settings and the rows to ``path``."""
    with open(path, 'w') as f:
        json.dump(dict(environment(), **extra, rows=rows), f, indent=2)
