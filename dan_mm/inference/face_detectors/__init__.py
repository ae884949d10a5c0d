"""Face detectors for :class:`~dan_mm.inference.FERInferencer`.

A detector takes a BGR ``uint8`` image ``(H, W, 3)`` and returns a
:class:`FaceDetections`: ``(N, 4)`` ``x1, y1, x2, y2`` boxes, ``(N, )``
scores and ``(N, 5, 2)`` landmarks (or None). Detectors are registered in
:data:`dan_mm.registry.FACE_DETECTORS`: subclass :class:`BaseFaceDetector`,
register it, and pass ``detector=dict(type='YourDetector', ...)`` (an
MMDetection model wrapped this way plugs in the same).
"""
from .base import BaseFaceDetector, FaceDetections, to_detections
from .builder import DETECTOR_SHORTCUTS, DetectorType, build_face_detector
from .haar import HaarFaceDetector
from .retinaface import RetinaFaceDetector, load_retinaface_weights
from .whole_image import WholeImageDetector

__all__ = [
    'BaseFaceDetector', 'FaceDetections', 'to_detections',
    'DETECTOR_SHORTCUTS', 'DetectorType', 'build_face_detector',
    'HaarFaceDetector', 'RetinaFaceDetector', 'load_retinaface_weights',
    'WholeImageDetector'
]
