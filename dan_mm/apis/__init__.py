"""Inference APIs: photos, videos or a camera in, per-face expressions out;
and the runner builder every training and test tool goes through."""
from .batch_predict import Source, check_source, iter_source, predict_source
from .face_alignment import (ARCFACE_TEMPLATE, RAFDB_TEMPLATE, FaceCrop,
                             FaceCropper, TemplateFit, estimate_norm,
                             expand_box, fit_face_template, norm_crop)
from .face_detectors import (DETECTOR_SHORTCUTS, BaseFaceDetector,
                             FaceDetections, HaarFaceDetector,
                             RetinaFaceDetector, WholeImageDetector,
                             build_face_detector)
from .fer_inferencer import FERInferencer, list_image_files
from .model_notice import ModelDomainWarning, model_notice, training_data
from .predictions import face_record, prediction_record, to_json_line
from .runner import (build_runner, merge_test_args, merge_train_args,
                     naming_run_errors, run_test, run_train)
from .tracking import HeldDetector, IoUTracker, ScoreSmoother, box_iou
from .video import (VIDEO_EXTENSIONS, StageTimer, count_frames, is_video_file,
                    open_video, parse_video_source)

__all__ = [
    'FERInferencer', 'BaseFaceDetector', 'FaceDetections', 'HaarFaceDetector',
    'RetinaFaceDetector', 'WholeImageDetector', 'DETECTOR_SHORTCUTS',
    'build_face_detector', 'expand_box', 'ARCFACE_TEMPLATE', 'RAFDB_TEMPLATE',
    'FaceCrop', 'FaceCropper', 'TemplateFit', 'estimate_norm',
    'fit_face_template', 'norm_crop', 'list_image_files', 'Source',
    'check_source', 'iter_source', 'predict_source', 'face_record',
    'prediction_record', 'to_json_line', 'VIDEO_EXTENSIONS', 'count_frames',
    'is_video_file', 'open_video', 'parse_video_source', 'ModelDomainWarning',
    'model_notice', 'training_data', 'IoUTracker', 'ScoreSmoother',
    'HeldDetector', 'box_iou', 'StageTimer', 'build_runner',
    'merge_train_args', 'merge_test_args', 'naming_run_errors', 'run_train',
    'run_test'
]
