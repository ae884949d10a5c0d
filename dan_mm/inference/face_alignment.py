"""Crop a detected face the way the model's training faces were cropped.

Each data config says how its faces were made, in one key::

    # five-point similarity transform onto a template, at the crop size
    face_crop = dict(mode='aligned', size=100, template=[[x, y], ...])
    # the detected box grown by a margin (fraction of its size per side)
    face_crop = dict(mode='box', margin=0.1)

:class:`FaceCropper` reads that key and cuts crops for
:class:`~dan_mm.inference.FERInferencer`; ``aligned`` follows insightface's
``face_align.py`` (``estimate_norm`` / ``norm_crop``, the template as data).
:func:`dan_mm.analysis.fit_face_template` measures the template of a
folder of aligned training images.
"""
from typing import NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..utils.errors import ConfigError

# insightface's ArcFace template for 112x112 crops: eye, eye, nose tip,
# mouth corner, mouth corner (left to right in the image).
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
     [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)

# RAF-DB's aligned 100x100 faces: the authors do not publish their template.
# This is the ArcFace template scaled to 100 px, an APPROXIMATION; measure
# the real one on your copy of RAF-DB with
# tools/analysis_tools/fit_face_template.py data/rafdb/Image/aligned.
RAFDB_TEMPLATE = [[34.19, 46.16], [65.65, 45.98], [50.02, 64.05],
                  [37.1, 82.47], [63.15, 82.33]]

CROP_MODES = ('box', 'aligned')


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale,
    translation) taking ``src`` points onto ``dst`` (Umeyama, 1991).

    Args:
        src (np.ndarray): ``(N, 2)`` points.
        dst (np.ndarray): ``(N, 2)`` points.

    Returns:
        np.ndarray: ``(2, 3)`` float64 affine matrix.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # no reflection
        d[-1] = -1
    rotation = u @ np.diag(d) @ vt
    scale = (s * d).sum() / src_c.var(0).sum()
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - matrix[:, :2] @ src_mean
    return matrix


def estimate_norm(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    """The similarity transform taking five face landmarks onto a template
    (insightface's ``estimate_norm``, without RANSAC: all five count).

    Args:
        landmarks (np.ndarray): ``(5, 2)`` points in the image.
        template (np.ndarray): ``(5, 2)`` points in the crop.

    Returns:
        np.ndarray: ``(2, 3)`` matrix for ``cv2.warpAffine``.
    """
    return umeyama(
        np.asarray(landmarks).reshape(5, 2),
        np.asarray(template).reshape(5, 2))


def norm_crop(img: np.ndarray, landmarks: np.ndarray, template: np.ndarray,
              size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Warp a face onto ``template`` in a ``size`` x ``size`` crop.

    Args:
        img (np.ndarray): The image ``(H, W, C)``.
        landmarks (np.ndarray): ``(5, 2)`` landmarks of the face in ``img``.
        template (np.ndarray): ``(5, 2)`` where they go in the crop.
        size (int): Side of the crop.

    Returns:
        tuple[np.ndarray, np.ndarray]: The crop ``(size, size, C)`` and the
        ``(2, 3)`` image-to-crop matrix. Outside the image is black, as
        RAF-DB's aligned faces.
    """
    matrix = estimate_norm(landmarks, template)
    crop = cv2.warpAffine(
        img, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return crop, matrix


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


class FaceCrop(NamedTuple):
    """One face as the model sees it.

    Attributes:
        img (np.ndarray): The crop (before the test pipeline's resize).
        box (np.ndarray): ``(4, )`` int ``x1, y1, x2, y2`` of the crop in the
            image (for ``aligned``, the bounding box of the turned square).
        matrix (np.ndarray | None): ``(2, 3)`` image-to-crop matrix for an
            aligned crop, None for a box crop.
    """
    img: np.ndarray
    box: np.ndarray
    matrix: Optional[np.ndarray]


class FaceCropper:
    """Cut faces as a data config's ``face_crop`` says.

    Args:
        mode (str): ``'box'`` (the detected box plus ``margin``) or
            ``'aligned'`` (five landmarks onto ``template``, ``size`` px).
        margin (float): Box crops grow by this fraction of the box's size
            per side; aligned crops use it for faces without landmarks
            (Haar, the whole image). Defaults to 0.2.
        template (Sequence, optional): ``(5, 2)`` landmark positions in the
            aligned crop (pixels). Needed for ``'aligned'``.
        size (int, optional): Side of the aligned crop. Needed for
            ``'aligned'``.
        source (str): Where the settings come from, for error messages.
            Defaults to ``'face_crop'``.
    """

    def __init__(self,
                 mode: str = 'box',
                 margin: float = 0.2,
                 template: Optional[Sequence] = None,
                 size: Optional[int] = None,
                 source: str = 'face_crop') -> None:
        if mode not in CROP_MODES:
            raise ConfigError(f'{source}: mode "{mode}" is unknown: use '
                              f'{" or ".join(CROP_MODES)}')
        if mode == 'aligned':
            points = np.asarray(template if template is not None else [],
                                np.float32)
            if points.shape != (5, 2):
                raise ConfigError(
                    f'{source}: an aligned crop needs template=[[x, y], ...] '
                    'with 5 points (eye, eye, nose, mouth corner, mouth '
                    'corner), got '
                    f'{None if template is None else np.shape(template)}')
            if not size or int(size) <= 0:
                raise ConfigError(f'{source}: an aligned crop needs size= '
                                  '(the crop side in pixels)')
            self.template, self.size = points, int(size)
        else:
            self.template, self.size = None, None
        if margin < 0:
            raise ConfigError(f'{source}: margin must be >= 0, got {margin}')
        self.mode, self.margin = mode, float(margin)

    @classmethod
    def from_config(cls,
                    cfg,
                    crop: Optional[str] = None,
                    margin: Optional[float] = None) -> 'FaceCropper':
        """The cropper a model config asks for, with overrides.

        Args:
            cfg (Config | dict | None): A config with a ``face_crop`` key
                (a box crop with margin 0.2 without one).
            crop (str, optional): ``'box'`` or ``'aligned'``: overrides the
                config's mode. An aligned crop without a template in the
                config uses :data:`RAFDB_TEMPLATE` at 100 px.
            margin (float, optional): Overrides the config's margin.
        """
        spec = dict((cfg or {}).get('face_crop', None) or {})
        source = 'face_crop (model config)'
        if crop is not None:
            if crop == 'aligned' and spec.get('mode') != 'aligned':
                spec.update(template=RAFDB_TEMPLATE, size=100)
            spec['mode'] = crop
        if margin is not None:
            spec['margin'] = margin
        unknown = set(spec) - {'mode', 'margin', 'template', 'size'}
        if unknown:
            raise ConfigError(f'{source}: unknown keys {sorted(unknown)}: '
                              'use mode, margin, template, size')
        return cls(source=source, **spec)

    def __call__(self, img: np.ndarray, box: Sequence[float],
                 landmarks: Optional[np.ndarray]) -> Optional[FaceCrop]:
        """Cut one face; None when its box crop is empty.

        Args:
            img (np.ndarray): BGR image ``(H, W, 3)``.
            box (Sequence[float]): Detected ``x1, y1, x2, y2``.
            landmarks (np.ndarray, optional): ``(5, 2)`` landmarks.
        """
        if self.mode == 'aligned' and landmarks is not None:
            crop, matrix = norm_crop(img, landmarks, self.template, self.size)
            return FaceCrop(crop, crop_bounds(matrix, self.size), matrix)
        x1, y1, x2, y2 = expand_box(box, self.margin, img.shape[:2])
        if x2 <= x1 or y2 <= y1:
            return None
        return FaceCrop(img[y1:y2, x1:x2], np.array([x1, y1, x2, y2],
                                                    np.int64), None)

    def crop_faces(self, img: np.ndarray, found) -> dict:
        """Cut every detected face of one image.

        Args:
            img (np.ndarray): BGR image ``(H, W, 3)``.
            found (FaceDetections): Its faces: ``boxes`` ``(M, 4)``,
                ``scores`` ``(M, )``, ``landmarks`` ``(M, 5, 2)`` or None.

        Returns:
            dict: ``boxes``, ``det_scores``, ``landmarks`` (or None) of the
            faces that could be cut, and ``crops``: a :class:`FaceCrop`
            each (pixels, box in the image, image-to-crop matrix for
            aligned crops).
        """
        crops, keep = [], []
        for i, box in enumerate(found.boxes):
            points = None if found.landmarks is None else found.landmarks[i]
            crop = self(img, box, points)
            if crop is not None:
                crops.append(crop)
                keep.append(i)
        return dict(
            boxes=found.boxes[keep],
            det_scores=found.scores[keep],
            landmarks=None
            if found.landmarks is None else found.landmarks[keep],
            crops=crops)

    def __repr__(self) -> str:
        if self.mode == 'aligned':
            return (f'FaceCropper(mode=aligned, size={self.size}, '
                    f'template={_rounded(self.template)})')
        return f'FaceCropper(mode=box, margin={self.margin})'


def _rounded(points: np.ndarray) -> list:
    return [[round(float(v), 2) for v in point] for point in points]


def crop_bounds(matrix: np.ndarray, size: int) -> np.ndarray:
    """Bounding box in the image of the ``size`` square an image-to-crop
    ``matrix`` maps onto (int ``x1, y1, x2, y2``, may leave the image)."""
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]
                        ], np.float64) @ inverse.T
    return np.concatenate([np.floor(corners.min(0)),
                           np.ceil(corners.max(0))]).astype(np.int64)
