"""The whole image as one face: for images that already are face crops."""
import numpy as np

from ...registry import FACE_DETECTORS
from .base import BaseFaceDetector, FaceDetections


@FACE_DETECTORS.register_module()
class WholeImageDetector(BaseFaceDetector):
    """"Detects" the whole image: for already aligned face crops (RAF-DB)."""

    def detect(self, img: np.ndarray) -> FaceDetections:
        h, w = img.shape[:2]
        return FaceDetections(
            np.array([[0, 0, w, h]], np.float32), np.ones(1, np.float32))
