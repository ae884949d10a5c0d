"""Inference APIs: photos (or video frames) in, per-face expressions out."""
from .face_detectors import (BaseFaceDetector, HaarFaceDetector,
                             WholeImageDetector, build_face_detector,
                             expand_box)
from .fer_inferencer import FERInferencer

__all__ = [
    'FERInferencer', 'BaseFaceDetector', 'HaarFaceDetector',
    'WholeImageDetector', 'build_face_detector', 'expand_box'
]
