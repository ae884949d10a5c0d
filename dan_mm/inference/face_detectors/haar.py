"""OpenCV's Haar cascade face detector (no landmarks)."""
from typing import Tuple

import cv2
import numpy as np

from ...registry import FACE_DETECTORS
from ...utils.errors import ConfigError
from .base import BaseFaceDetector, FaceDetections


@FACE_DETECTORS.register_module()
class HaarFaceDetector(BaseFaceDetector):
    """OpenCV's Viola-Jones (Haar cascade) frontal face detector.

    Fast to load and dependency free, but frontal faces only, and no
    landmarks: an ``aligned`` crop falls back to a box crop.

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

    def detect(self, img: np.ndarray) -> FaceDetections:
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        faces = self.classifier.detectMultiScale(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=self.min_size)
        boxes = np.asarray(faces, np.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
        boxes = boxes[np.argsort(boxes[:, 0], kind='stable')]  # left to right
        return FaceDetections(boxes, np.ones(len(boxes), np.float32))
