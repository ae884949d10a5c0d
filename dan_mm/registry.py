"""dan_mm's own registries (its models, datasets and hooks use mmpretrain's).

``FACE_DETECTORS`` holds the face detectors
:class:`~dan_mm.inference.FERInferencer` builds from a config dict, e.g.
``dict(type='RetinaFaceDetector', num_threads=2)``. Register your own (an
MMDetection model wrapped in a
:class:`~dan_mm.inference.BaseFaceDetector`) with
``@FACE_DETECTORS.register_module()``.
"""
from mmengine.registry import Registry

FACE_DETECTORS = Registry(
    'face detector', locations=['dan_mm.inference.face_detectors'])
