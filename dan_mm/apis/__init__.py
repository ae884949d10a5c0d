"""Inference APIs: photos, videos or a camera in, per-face expressions out;
and the runner builder every training and test tool goes through."""
from .face_detectors import (BaseFaceDetector, HaarFaceDetector,
                             WholeImageDetector, build_face_detector,
                             expand_box)
from .fer_inferencer import FERInferencer, list_image_files
from .model_notice import ModelDomainWarning, model_notice, training_data
from .runner import (build_runner, merge_test_args, merge_train_args,
                     naming_run_errors, run_test, run_train)
from .tracking import HeldDetector, IoUTracker, ScoreSmoother, box_iou
from .video import (VIDEO_EXTENSIONS, StageTimer, count_frames, is_video_file,
                    open_video, parse_video_source)

__all__ = [
    'FERInferencer', 'BaseFaceDetector', 'HaarFaceDetector',
    'WholeImageDetector', 'build_face_detector', 'expand_box',
    'list_image_files', 'VIDEO_EXTENSIONS', 'count_frames', 'is_video_file',
    'open_video', 'parse_video_source', 'ModelDomainWarning', 'model_notice',
    'training_data', 'IoUTracker', 'ScoreSmoother', 'HeldDetector', 'box_iou',
    'StageTimer', 'build_runner', 'merge_train_args', 'merge_test_args',
    'naming_run_errors', 'run_train', 'run_test'
]
