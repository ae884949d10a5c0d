"""Inference APIs: photos, videos or a camera in, per-face expressions out."""
from .batch_predict import Source, check_source, iter_source, predict_source
from .face_alignment import (ARCFACE_TEMPLATE, RAFDB_TEMPLATE, FaceCrop,
                             FaceCropper, TemplateFit, estimate_norm,
                             expand_box, fit_face_template, norm_crop)
from .face_detectors import (DETECTOR_SHORTCUTS, BaseFaceDetector,
                             FaceDetections, HaarFaceDetector,
                             RetinaFaceDetector, WholeImageDetector,
                             build_face_detector)
from .fer_inferencer import FERInferencer, list_image_files
from .predictions import face_record, prediction_record, to_json_line
from .video import (VIDEO_EXTENSIONS, count_frames, is_video_file, open_video,
                    parse_video_source)

__all__ = [
    'FERInferencer', 'BaseFaceDetector', 'FaceDetections', 'HaarFaceDetector',
    'RetinaFaceDetector', 'WholeImageDetector', 'DETECTOR_SHORTCUTS',
    'build_face_detector', 'expand_box', 'ARCFACE_TEMPLATE', 'RAFDB_TEMPLATE',
    'FaceCrop', 'FaceCropper', 'TemplateFit', 'estimate_norm',
    'fit_face_template', 'norm_crop', 'list_image_files', 'Source',
    'check_source', 'iter_source', 'predict_source', 'face_record',
    'prediction_record', 'to_json_line', 'VIDEO_EXTENSIONS', 'count_frames',
    'is_video_file', 'open_video', 'parse_video_source'
]
