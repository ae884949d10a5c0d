"""A generated clip and its timeline (the README's video picture).

:func:`write_timeline_clip` writes a short video of drawn SynthFER faces
(:func:`dan_mm.synthfer.draw_face`) that change expression on a
script, drift a little, and come and go; :func:`clip_timeline` runs a
:class:`~dan_mm.inference.FERInferencer` over it as ``tools/infer.py``
does (tracking, smoothing) and returns the
:class:`~dan_mm.video.timeline.Timeline`. RetinaFace is made for photos and
misses some drawn faces, so the faces are "detected" where the clip put
them (:class:`ScriptedDetector`).
"""
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch

from ..datasets.categories import RAFDB_CATEGORIES
from ..synthfer import draw_face
from ..video import VideoInferencer
from ..video.timeline import Timeline

# Per face: (first s, last s, [(from s, expression), ...]); the last face
# is on screen for 0.6 s only: too short for a panel of its own.
SCRIPT = (
    (0.0, 10.0, [(0.0, 'Neutral'), (3.0, 'Happiness'), (6.5, 'Surprise')]),
    (0.0, 10.0, [(0.0, 'Sadness'), (4.0, 'Neutral'), (7.0, 'Anger')]),
    (2.0, 9.0, [(2.0, 'Fear'), (5.5, 'Happiness')]),
    (5.0, 5.6, [(5.0, 'Disgust')]),
)
FRAME_SIZE = (640, 300)  # width, height
FACE_SIZE = 120

Box = Tuple[float, float, float, float]


def _expression(changes: Sequence[tuple], t: float) -> str:
    return [name for start, name in changes if start <= t][-1]


def write_timeline_clip(path: str,
                        fps: float = 10.,
                        duration_s: float = 10.,
                        script: Sequence[tuple] = SCRIPT) -> List[List[Box]]:
    """Write the clip of :data:`SCRIPT` as an MPEG-4 video.

    Args:
        path (str): The output ``.mp4``.
        fps (float): Frame rate. Defaults to 10.
        duration_s (float): Length in seconds. Defaults to 10.
        script (Sequence[tuple]): Per face ``(first s, last s, [(from s,
            expression name), ...])``.

    Returns:
        list[list[tuple]]: Per frame, the box ``x1, y1, x2, y2`` of each
        face on screen, in script order.
    """
    width, height = FRAME_SIZE
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    ramp = np.linspace(60, 150, width, dtype=np.float32)
    background = np.repeat(ramp[None, :, None], height, 0).repeat(3, 2)
    boxes_per_frame = []
    try:
        for index in range(round(duration_s * fps)):
            t = index / fps
            frame = background.astype(np.uint8)
            boxes = []
            for k, (start, end, changes) in enumerate(script):
                if not start <= t < end:
                    continue
                label = RAFDB_CATEGORIES.index(_expression(changes, t))
                # the same person every frame: the same seed
                face = draw_face(label, np.random.default_rng(k), FACE_SIZE)
                x = round(20 + 155 * k + 12 * np.sin(t + k))
                y = round(90 + 10 * np.cos(0.7 * t + 2 * k))
                frame[y:y + FACE_SIZE, x:x + FACE_SIZE] = face[..., ::-1]
                boxes.append((x, y, x + FACE_SIZE - 1, y + FACE_SIZE - 1))
            writer.write(frame)
            boxes_per_frame.append(boxes)
    finally:
        writer.release()
    return boxes_per_frame


class ScriptedDetector:
    """A face detector for a generated clip: call ``i`` returns the boxes
    of frame ``i`` (the clip is read once, frame by frame, detected every
    frame).

    Args:
        boxes_per_frame (Sequence): From :func:`write_timeline_clip`.
    """

    def __init__(self, boxes_per_frame: Sequence[Sequence[Box]]) -> None:
        self.boxes_per_frame = list(boxes_per_frame)
        self.calls = 0

    def __call__(self, img: np.ndarray) -> np.ndarray:
        boxes = self.boxes_per_frame[self.calls]
        self.calls += 1
        return np.array(boxes, np.float32).reshape(-1, 4)


def clip_timeline(inferencer,
                  clip: str,
                  boxes_per_frame: Sequence[Sequence[Box]],
                  fps: float = 10.) -> Timeline:
    """Classify every face of the clip, tracked and smoothed as
    ``tools/infer.py`` does, into a :class:`Timeline`.

    Args:
        inferencer (FERInferencer): The model; its detector is replaced by a
            :class:`ScriptedDetector` for the run.
        clip (str): The clip written by :func:`write_timeline_clip`.
        boxes_per_frame (Sequence): Its boxes.
        fps (float): Its frame rate. Defaults to 10.

    Returns:
        Timeline: One row per face per frame.
    """
    timeline = Timeline(inferencer.classes, fps=fps)
    detector = inferencer.detector
    inferencer.detector = ScriptedDetector(boxes_per_frame)
    try:
        for result in VideoInferencer(inferencer, batch_size=8)(clip):
            timeline.add(result)
    finally:
        inferencer.detector = detector
    return timeline


def random_weights(model: torch.nn.Module,
                   seed: int = 0,
                   linear_scale: float = 0.01) -> None:
    """Random weights whose answers still differ from face to face: the
    model's own init, then random BatchNorm statistics and scales (with the
    defaults, mean 0 and variance 1, a fresh network answers about the
    same for every face).

    Args:
        model (nn.Module): Changed in place.
        seed (int): Seed of all of it. Defaults to 0.
        linear_scale (float): Factor on the weights of linear layers (the
            classifier), so that the probabilities are not all 0 or 1.
            Defaults to 0.01.
    """
    torch.manual_seed(seed)
    model.init_weights()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
            elif isinstance(m, torch.nn.Linear):
                m.weight.mul_(linear_scale)  # smaller logits: not one-hot


def mark_script(fig, script: Sequence[tuple] = SCRIPT) -> None:
    """On each panel of ``Timeline.figure`` (titled ``#<track>``; tracks
    are numbered in the script's order), a dashed line where the drawn
    expression changes, with its name in grey.

    Args:
        fig (matplotlib.figure.Figure): From :meth:`Timeline.figure`.
        script (Sequence[tuple]): The clip's script.
    """
    for ax in fig.axes:
        track = int(ax.get_title(loc='left').strip().lstrip('#'))
        if track > len(script):
            continue
        for start, name in script[track - 1][2]:
            ax.axvline(start, color='0.45', lw=0.8, ls='--')
            ax.text(
                start + 0.08,
                0.97,
                f'drawn: {name}',
                color='0.35',
                fontsize=7,
                va='top',
                bbox=dict(fc='white', ec='none', alpha=0.8, pad=1),
                transform=ax.get_xaxis_transform())
