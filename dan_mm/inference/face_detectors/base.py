"""The face detector interface: an image in, boxes, scores, landmarks out."""
from abc import ABCMeta, abstractmethod
from typing import NamedTuple, Optional, Union

import numpy as np


class FaceDetections(NamedTuple):
    """The faces found in one image, left to right.

    Attributes:
        boxes (np.ndarray): ``(N, 4)`` float32 ``x1, y1, x2, y2`` (pixels).
        scores (np.ndarray): ``(N, )`` float32 confidences (1 for detectors
            without one).
        landmarks (np.ndarray | None): ``(N, 5, 2)`` float32 ``x, y`` of the
            eye, eye, nose tip, mouth corner, mouth corner, in that order
            and left to right in the image; None when the detector gives
            none (Haar).
    """
    boxes: np.ndarray
    scores: np.ndarray
    landmarks: Optional[np.ndarray] = None


def to_detections(
        output: Union[FaceDetections, tuple, np.ndarray,
                      list]) -> FaceDetections:
    """What a detector returned -> :class:`FaceDetections`.

    Accepts a :class:`FaceDetections`, a ``(boxes, scores[, landmarks])``
    tuple, or boxes alone (an ``(N, 4)`` array or list, as detectors written
    for dan_mm before landmarks return).
    """
    if (isinstance(output, tuple) and not isinstance(output, FaceDetections)
            and 2 <= len(output) <= 3 and np.ndim(output[0]) == 2):
        output = FaceDetections(*output)  # (boxes, scores[, landmarks])
    if not isinstance(output, FaceDetections):
        boxes = np.asarray(output, np.float32).reshape(-1, 4)
        return FaceDetections(boxes, np.ones(len(boxes), np.float32))
    boxes = np.asarray(output.boxes, np.float32).reshape(-1, 4)
    scores = np.ones(len(boxes), np.float32) if output.scores is None \
        else np.asarray(output.scores, np.float32).reshape(-1)
    landmarks = None if output.landmarks is None else np.asarray(
        output.landmarks, np.float32).reshape(-1, 5, 2)
    if len(scores) != len(boxes) or (landmarks is not None
                                     and len(landmarks) != len(boxes)):
        raise ValueError(
            f'a face detector returned {len(boxes)} boxes, {len(scores)} '
            f'scores and {None if landmarks is None else len(landmarks)} '
            'landmark sets: they must be as many')
    return FaceDetections(boxes, scores, landmarks)


class BaseFaceDetector(metaclass=ABCMeta):
    """Interface of a face detector.

    Implement :meth:`detect`; calling the detector returns a
    :class:`FaceDetections`. Register a subclass in
    :data:`dan_mm.registry.FACE_DETECTORS` to build it from a config dict.
    """

    @abstractmethod
    def detect(self, img: np.ndarray):
        """Find the faces in one image.

        Args:
            img (np.ndarray): BGR ``uint8`` image ``(H, W, 3)``.

        Returns:
            FaceDetections | np.ndarray: The faces, or only their ``(N, 4)``
            ``x1, y1, x2, y2`` boxes.
        """

    def __call__(self, img: np.ndarray) -> FaceDetections:
        return to_detections(self.detect(img))
