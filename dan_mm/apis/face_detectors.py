"""Face detectors for :class:`~dan_mm.apis.FERInferencer`.

A detector is anything with ``__call__(img) -> boxes``: it takes a BGR
``uint8`` image ``(H, W, 3)`` and returns an ``(M, 4)`` float array of
``x1, y1, x2, y2`` boxes in pixels (M may be 0). Subclass
:class:`BaseFaceDetector` and implement :meth:`~BaseFaceDetector.detect` to
plug in another detector (e.g. an MMDetection or RetinaFace model).
"""
from abc import ABCMeta, abstractmethod
from typing import Callable, Sequence, Tuple, Union

import cv2
import numpy as np

from ..utils.errors import ConfigError


class BaseFaceDetector(metaclass=ABCMeta):
    """Interface of a face detector: image in, ``(M, 4)`` xyxy boxes out."""

    @abstractmethod
    def detect(self, img: np.ndarray) -> np.ndarray:
        """Find the faces in one image.

        Args:
            img (np.ndarray): BGR ``uint8`` image ``(H, W, 3)``.

        Returns:
            np.ndarray: ``(M, 4)`` boxes ``x1, y1, x2, y2`` (pixels).
        """

    def __call__(self, img: np.ndarray) -> np.ndarray:
        boxes = np.asarray(self.detect(img), dtype=np.float32)
        return boxes.reshape(-1, 4)


class HaarFaceDetector(BaseFaceDetector):
    """OpenCV's Viola-Jones (Haar cascade) frontal face detector.

    Fast and dependency free, but frontal faces only: swap in a CNN detector
    for profiles, small or occluded faces.

    Args:
        cascade (str): A file in ``cv2.data.haarcascades`` or a path.
            Defaults to ``'haarcascade_frontalface_default.xml'``.
        scale_factor (float): Image pyramid step. Defaults to 1.1.
        min_neighbors (int): Overlapping detections needed to keep a face;
            higher means fewer false positives. Defaults to 5.
        min_size (tuple[int, int]): Smallest face (w, h) in pixels.
            Defaults to ``(24, 24)``.
    """

    def __init__(self,
                 cascade: str = 'haarcascade_frontalface_default.xml',
                 scale_factor: float = 1.1,
                 min_neighbors: int = 5,
                 min_size: Tuple[int, int] = (24, 24)):
        path = cascade if '/' in cascade else cv2.data.haarcascades + cascade
        self.classifier = cv2.CascadeClassifier(path)
        if self.classifier.empty():
            raise ConfigError(f'cannot load the Haar cascade {path}')
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = tuple(min_size)

    def detect(self, img: np.ndarray) -> np.ndarray:
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        faces = self.classifier.detectMultiScale(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=self.min_size)
        if len(faces) == 0:
            return np.zeros((0, 4), np.float32)
        boxes = np.asarray(faces, np.float32)
        boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
        return boxes[np.argsort(boxes[:, 0], kind='stable')]  # left to right


class WholeImageDetector(BaseFaceDetector):
    """"Detects" the whole image: for already aligned face crops (RAF-DB)."""

    def detect(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        return np.array([[0, 0, w, h]], np.float32)


DetectorType = Union[str, BaseFaceDetector, Callable[[np.ndarray], Sequence]]


def build_face_detector(detector: DetectorType) -> Callable:
    """``'haar'`` / ``'none'`` or a detector object -> a detector callable."""
    if isinstance(detector, str):
        if detector == 'haar':
            return HaarFaceDetector()
        if detector == 'none':
            return WholeImageDetector()
        raise ConfigError(f'unknown face detector "{detector}": use "haar", '
                          '"none" or pass a BaseFaceDetector')
    if not callable(detector):
        raise TypeError(f'a face detector must be callable, got {detector!r}')
    return detector


def expand_box(box: Sequence[float], margin: float,
               img_shape: Tuple[int, int]) -> np.ndarray:
    """Grow a box by ``margin`` x its size on every side, clipped to the image.

    Args:
        box (Sequence[float]): ``x1, y1, x2, y2``.
        margin (float): Fraction of the box's width (height) added left and
            right (top and bottom).
        img_shape (tuple[int, int]): ``(H, W)`` of the image.

    Returns:
        np.ndarray: Integer box ``x1, y1, x2, y2`` inside the image.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    dw, dh = (x2 - x1) * margin, (y2 - y1) * margin
    h, w = img_shape
    out = np.array([x1 - dw, y1 - dh, x2 + dw, y2 + dh])
    out = np.round(out).astype(np.int64)
    out[0::2] = out[0::2].clip(0, w)
    out[1::2] = out[1::2].clip(0, h)
    return out
