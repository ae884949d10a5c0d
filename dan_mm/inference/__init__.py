"""Photo inference: find faces, crop them as the model was trained, and
classify each face's expression (:class:`FERInferencer`)."""
from .face_alignment import FaceCrop, FaceCropper
from .face_crops import crop_face_folders
from .face_detectors import (DETECTOR_SHORTCUTS, BaseFaceDetector,
                             FaceDetections, HaarFaceDetector,
                             RetinaFaceDetector, WholeImageDetector,
                             build_face_detector)
from .face_finder import FaceFinder
from .fer_inferencer import FERInferencer
from .image_inputs import list_image_files
from .model_notice import ModelDomainWarning, model_notice, training_data
from .predictions import face_record, prediction_record, to_json_line

__all__ = [
    'FERInferencer', 'FaceFinder', 'crop_face_folders', 'BaseFaceDetector',
    'FaceDetections', 'HaarFaceDetector', 'RetinaFaceDetector',
    'WholeImageDetector', 'DETECTOR_SHORTCUTS', 'build_face_detector',
    'FaceCrop', 'FaceCropper', 'list_image_files', 'ModelDomainWarning',
    'model_notice', 'training_data', 'face_record', 'prediction_record',
    'to_json_line'
]
