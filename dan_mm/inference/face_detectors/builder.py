"""Detector shortcuts and config dicts -> a detector."""
from typing import Callable, Sequence, Union

import numpy as np
from mmengine.registry import DefaultScope

from ...registry import FACE_DETECTORS
from ...utils.errors import ConfigError
from .base import BaseFaceDetector

# The names tools and the web demo offer (--detector).
DETECTOR_SHORTCUTS = {
    'retinaface': 'RetinaFaceDetector',
    'haar': 'HaarFaceDetector',
    'none': 'WholeImageDetector',
}

DetectorType = Union[str, dict, BaseFaceDetector, Callable[[np.ndarray],
                                                           Sequence]]


def build_face_detector(detector: DetectorType, **kwargs) -> Callable:
    """A shortcut, a config dict or a detector -> a detector callable.

    Args:
        detector (str | dict | BaseFaceDetector | callable): ``'retinaface'``,
            ``'haar'``, ``'none'`` (the whole image is one face), a config
            dict such as ``dict(type='RetinaFaceDetector', num_threads=2)``
            (any type registered in :data:`dan_mm.registry.FACE_DETECTORS`,
            or a class), or a detector object / callable ``img (BGR) ->
            FaceDetections | (N, 4) boxes``.
        **kwargs: Defaults for a shortcut's or dict's arguments (e.g.
            ``num_threads``); a dict's own values win.

    Returns:
        callable: The detector.
    """
    if isinstance(detector, str):
        if detector not in DETECTOR_SHORTCUTS:
            raise ConfigError(
                f'unknown face detector "{detector}": use one of '
                f'{", ".join(DETECTOR_SHORTCUTS)}, a config dict '
                '(type=...) or a BaseFaceDetector')
        if detector != 'retinaface':
            kwargs = {}  # num_threads is RetinaFace's
        detector = dict(type=DETECTOR_SHORTCUTS[detector])
    if isinstance(detector, dict):
        if 'type' not in detector:
            raise ConfigError(
                f'face detector config {detector} has no "type": e.g. '
                'dict(type="RetinaFaceDetector")')
        if detector['type'] != 'RetinaFaceDetector':
            kwargs = {}
        try:
            # The inferencer sets mmpretrain's scope; this registry is ours.
            with DefaultScope.overwrite_default_scope('dan_mm'):
                return FACE_DETECTORS.build({**kwargs, **detector})
        except KeyError as err:
            raise ConfigError(
                f'face detector type {detector["type"]!r} is not registered '
                '(register it with @FACE_DETECTORS.register_module() from '
                f'dan_mm.registry, and import its module): {err}') from None
    if not callable(detector):
        raise TypeError(f'a face detector must be callable, got {detector!r}')
    return detector
