"""Measure the five-point face template of a folder of aligned training
images (``tools/analysis_tools/fit_face_template.py``), for the
``face_crop`` key of a data config (:mod:`dan_mm.inference.face_alignment`).
"""
from collections import Counter
from typing import Iterable, NamedTuple, Optional, Union

import cv2
import numpy as np

from ..inference import RetinaFaceDetector
from ..utils.errors import ConfigError, UnreadableImageError
from ..utils.image_io import decode_image


class TemplateFit(NamedTuple):
    """What :func:`fit_face_template` measured.

    Attributes:
        template (np.ndarray): ``(5, 2)`` robust mean landmarks (pixels of a
            ``size`` crop).
        size (int): Side of the images (the most common one).
        num_used (int): Images the template is the mean of.
        num_no_face (int): Images where no face was found (or unreadable).
        num_outliers (int): Faces rejected as far from the median.
    """
    template: np.ndarray
    size: int
    num_used: int
    num_no_face: int
    num_outliers: int

    def config_line(self) -> str:
        """The ``face_crop`` line to paste into a data config."""
        points = ', '.join(f'[{x:.2f}, {y:.2f}]' for x, y in self.template)
        return (f"face_crop = dict(mode='aligned', size={self.size}, "
                f'template=[{points}])')


def detect_landmarks(img: np.ndarray, detector) -> Optional[np.ndarray]:
    """Five landmarks of the face of an aligned crop, or None.

    The crop is padded by half its size first: a face that fills its image
    (chin and forehead cut) is found more reliably with room around it.
    The face nearest the centre is kept.
    """
    h, w = img.shape[:2]
    pad = max(h, w) // 2
    padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT)
    faces = detector(padded)
    if faces.landmarks is None or len(faces.boxes) == 0:
        return None
    centers = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2 - pad
    best = np.argmin(np.linalg.norm(centers - [w / 2, h / 2], axis=1))
    return faces.landmarks[best] - pad


def fit_face_template(images: Iterable[Union[str, np.ndarray]],
                      detector=None,
                      outlier_factor: float = 3.0) -> TemplateFit:
    """Measure the five-point template of a set of aligned face images.

    Detects the landmarks of every image, rejects images without a face
    and faces far from the median (robust z-score of the mean point
    distance above ``outlier_factor``, and at least 3% of the size), and
    averages the rest.

    Args:
        images (Iterable[str | np.ndarray]): Paths or BGR arrays, aligned
            faces of one size (others are scaled to the most common size).
        detector (callable, optional): Defaults to a
            :class:`~dan_mm.inference.RetinaFaceDetector` (``score_thr=0.5``).
        outlier_factor (float): Rejection threshold. Defaults to 3.

    Returns:
        TemplateFit: The template and the counts.

    Raises:
        ConfigError: No face was found in any image.
    """
    if detector is None:
        detector = RetinaFaceDetector(score_thr=0.5)
    points, sizes, num_no_face = [], [], 0
    for image in images:
        img = image
        if not isinstance(image, np.ndarray):
            try:
                img = decode_image(image)
            except UnreadableImageError:
                img = None
        found = None if img is None else detect_landmarks(img, detector)
        if found is None:
            num_no_face += 1
            continue
        points.append(found / [img.shape[1], img.shape[0]])
        sizes.append(img.shape[1])
    if not points:
        raise ConfigError(f'no face found in any of the {num_no_face} images')
    size = Counter(sizes).most_common(1)[0][0]
    points = np.asarray(points) * size  # (N, 5, 2) at the common size
    median = np.median(points, axis=0)
    dist = np.linalg.norm(points - median, axis=2).mean(axis=1)
    mad = 1.4826 * np.median(np.abs(dist - np.median(dist)))
    limit = max(np.median(dist) + outlier_factor * mad, 0.03 * size)
    keep = dist <= limit
    return TemplateFit(points[keep].mean(0).astype(np.float32), int(size),
                       int(keep.sum()), num_no_face, int((~keep).sum()))
