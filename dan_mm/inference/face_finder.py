"""Find the faces of a photo and cut them as a model's config says: the
detector and the crop of :class:`~dan_mm.inference.FERInferencer`, without the
model (``tools/dataset_converters/crop_faces.py`` cuts training faces
with it, so that they look like the faces inference will show the model)."""
from typing import Optional

import numpy as np

from .face_alignment import FaceCropper
from .face_detectors import (DetectorType, FaceDetections, build_face_detector,
                             to_detections)


class FaceFinder:
    """A model config's face detector and face crop.

    Args:
        cfg (Config | dict): The model's config: ``face_detector``
            (default ``'retinaface'``) and ``face_crop`` (see
            :class:`~dan_mm.inference.face_alignment.FaceCropper`).
        detector (str | dict | callable, optional): Overrides the config's
            detector (see :func:`build_face_detector`). Defaults to None.
        no_detect (bool): The whole image is one face (already cropped
            faces). Defaults to False.
        margin (float, optional): Overrides the config's crop margin.
        crop (str, optional): ``'box'`` or ``'aligned'``: overrides the
            config's crop mode.
        detector_threads (int, optional): CPU threads of the RetinaFace
            detector. Defaults to ``torch.get_num_threads()``.
    """

    def __init__(self,
                 cfg,
                 detector: Optional[DetectorType] = None,
                 no_detect: bool = False,
                 margin: Optional[float] = None,
                 crop: Optional[str] = None,
                 detector_threads: Optional[int] = None) -> None:
        if detector is None:
            detector = (cfg or {}).get('face_detector', 'retinaface')
        self.detector = build_face_detector(
            'none' if no_detect else detector, num_threads=detector_threads)
        self.cropper = FaceCropper.from_config(cfg, crop, margin)

    def detect(self,
               img: np.ndarray,
               detector: Optional[DetectorType] = None) -> FaceDetections:
        """Find the faces of one image.

        Args:
            img (np.ndarray): BGR ``uint8`` image ``(H, W, 3)``.
            detector (callable, optional): Run this one instead of the
                finder's own (a video loop's held detector). Defaults to
                None.

        Returns:
            FaceDetections: ``boxes`` ``(M, 4)``, ``scores`` ``(M, )`` and
            ``landmarks`` ``(M, 5, 2)`` or None.
        """
        return to_detections((detector or self.detector)(img))

    def find_faces(self,
                   img: np.ndarray,
                   detector: Optional[DetectorType] = None) -> dict:
        """Detect the faces of one image and crop them for the model
        (:meth:`detect`, then :meth:`FaceCropper.crop_faces`).

        Returns:
            dict: ``boxes`` ``(M, 4)``, ``det_scores`` ``(M, )``,
            ``landmarks`` ``(M, 5, 2)`` or None, and ``crops`` (a
            :class:`~dan_mm.inference.face_alignment.FaceCrop` each).
        """
        return self.cropper.crop_faces(img, self.detect(img, detector))
