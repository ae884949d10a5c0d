"""Faces across video frames: identities, smoothed probabilities, and
detection every N frames.

Why a plain IoU tracker and not a library: the maintained PyPI trackers
did not fit the project's constraints when checked (``pip install
--dry-run``): ``norfair`` 2.3.0 pins ``numpy<2`` (a downgrade),
``trackers`` 2.6.1 pulls ``opencv-python`` 5 (a second OpenCV), and
``supervision`` 0.31 pulls PyAV, requests and more for one class; ``motpy``
and the ByteTrack / SORT repackagings have had no release since 2021-2023.
Faces in a FER video are few, large and slow next to the frame rate, so
matching each frame's boxes to the last known box of every track by IoU
(Hungarian assignment, :func:`scipy.optimize.linear_sum_assignment`, scipy
already comes with scikit-learn) keeps identities without a motion model.
"""
from typing import Any, Callable, Dict, List, Optional

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..utils.errors import ConfigError


def box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """Intersection over union of every pair of boxes.

    Args:
        boxes1 (np.ndarray): ``(N, 4)`` ``x1, y1, x2, y2``.
        boxes2 (np.ndarray): ``(M, 4)`` ``x1, y1, x2, y2``.

    Returns:
        np.ndarray: ``(N, M)`` IoU in [0, 1] (0 for empty boxes).
    """
    a = np.asarray(boxes1, np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes2, np.float64).reshape(1, -1, 4)
    iw = (np.minimum(a[..., 2], b[..., 2]) -
          np.maximum(a[..., 0], b[..., 0])).clip(0)
    ih = (np.minimum(a[..., 3], b[..., 3]) -
          np.maximum(a[..., 1], b[..., 1])).clip(0)
    inter = iw * ih
    area_a = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])).clip(0)
    area_b = ((b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])).clip(0)
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.)


class IoUTracker:
    """Gives every face box an id that stays with the face across frames.

    Each frame's boxes are matched one to one to the live tracks (the last
    box of each) by maximum total IoU; a pair below ``min_iou`` is no match.
    A matched box continues its track, an unmatched box starts a new track
    (ids count up from 1 and are never reused), and a track not matched for
    more than ``max_age`` frames in a row is dropped: a face that comes back
    later gets a new id.

    Args:
        min_iou (float): Least IoU of a box with a track's last box to
            continue it. Defaults to 0.3.
        max_age (int): Frames a track survives without a match (a missed
            detection, a face briefly hidden). Defaults to 5.
    """

    def __init__(self, min_iou: float = 0.3, max_age: int = 5):
        if not 0 < min_iou <= 1:
            raise ConfigError(f'min_iou must be in (0, 1], got {min_iou}')
        if max_age < 0:
            raise ConfigError(f'max_age must be >= 0, got {max_age}')
        self.min_iou = min_iou
        self.max_age = max_age
        self._next_id = 1
        self._ids: List[int] = []
        self._boxes = np.zeros((0, 4), np.float64)
        self._misses: List[int] = []  # frames since each track's last match

    @property
    def track_ids(self) -> List[int]:
        """Ids of the live tracks (matched within the last ``max_age``
        frames)."""
        return list(self._ids)

    def update(self, boxes: np.ndarray) -> np.ndarray:
        """Match one frame's boxes to the tracks.

        Args:
            boxes (np.ndarray): ``(M, 4)`` ``x1, y1, x2, y2`` of this frame.

        Returns:
            np.ndarray: ``(M, )`` int64 track id of each box, in its order.
        """
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        ids = np.zeros(len(boxes), np.int64)
        matched_tracks = set()
        if len(boxes) and self._ids:
            iou = box_iou(self._boxes, boxes)
            rows, cols = linear_sum_assignment(iou, maximize=True)
            for t, d in zip(rows, cols):
                if iou[t, d] >= self.min_iou:
                    ids[d] = self._ids[t]
                    self._boxes[t] = boxes[d]
                    self._misses[t] = 0
                    matched_tracks.add(t)
        keep = []
        for t in range(len(self._ids)):
            if t not in matched_tracks:
                self._misses[t] += 1
            if self._misses[t] <= self.max_age:
                keep.append(t)
        self._ids = [self._ids[t] for t in keep]
        self._misses = [self._misses[t] for t in keep]
        self._boxes = self._boxes[keep]
        for d in np.flatnonzero(ids == 0):
            ids[d] = self._next_id
            self._ids.append(self._next_id)
            self._misses.append(0)
            self._boxes = np.concatenate([self._boxes, boxes[d:d + 1]])
            self._next_id += 1
        return ids


class ScoreSmoother:
    """Smooths each track's class probabilities over time.

    An exponential moving average with span ``window`` frames, as pandas'
    ``ewm(span=window, adjust=False)``: ``s_t = a * p_t + (1 - a) * s_{t-1}``
    with ``a = 2 / (window + 1)`` and ``s`` starting at a track's first
    probabilities. The weights of the last ``window`` frames sum to about
    86%, so a label follows a real change of expression within about
    ``window`` frames (0.2 s at 25 frames/s for the default 5) while
    frame-to-frame flicker is damped. ``window=1`` is no smoothing.

    Args:
        window (int): Span in frames. Defaults to 5.
    """

    def __init__(self, window: int = 5):
        if window < 1:
            raise ConfigError(f'smooth window must be >= 1, got {window}')
        self.window = window
        self.alpha = 2. / (window + 1)
        self._state: Dict[int, np.ndarray] = {}

    def update(self, track_id: int, scores: np.ndarray) -> np.ndarray:
        """Add one frame's probabilities of a track; its smoothed ones."""
        scores = np.asarray(scores, np.float32)
        last = self._state.get(track_id)
        smoothed = scores if last is None else \
            self.alpha * scores + (1 - self.alpha) * last
        self._state[track_id] = smoothed
        return smoothed

    def keep_only(self, track_ids) -> None:
        """Forget the tracks not in ``track_ids`` (ended tracks)."""
        live = set(int(i) for i in track_ids)
        self._state = {k: v for k, v in self._state.items() if k in live}


class HeldDetector:
    """A detector run on every ``every``-th call; the calls in between
    return its last result again (the faces are held where they were last
    detected, which suits faces that move little in ``every`` frames).

    Whatever the wrapped detector returns (boxes, or boxes with landmarks)
    is passed through unchanged.

    Args:
        detector (callable): ``img -> detections``.
        every (int): Run the detector on call 0, every, 2 * every, ...
    """

    def __init__(self, detector: Callable[[np.ndarray], Any], every: int):
        if every < 1:
            raise ConfigError(f'detect_every must be >= 1, got {every}')
        self.detector = detector
        self.every = every
        self.calls = 0
        self._last: Optional[Any] = None

    def __getattr__(self, name: str) -> Any:
        # Anything else (a name, thresholds) is the wrapped detector's.
        if name == 'detector':  # not set yet (copy, unpickling)
            raise AttributeError(name)
        return getattr(self.detector, name)

    def __call__(self, img: np.ndarray) -> Any:
        if self.calls % self.every == 0 or self._last is None:
            self._last = self.detector(img)
        self.calls += 1
        return self._last
