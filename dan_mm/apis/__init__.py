"""Inference APIs: photos, videos or a camera in, per-face expressions out."""
from .face_detectors import (BaseFaceDetector, HaarFaceDetector,
                             WholeImageDetector, build_face_detector,
                             expand_box)
from .fer_inferencer import FERInferencer, list_image_files
from .model_notice import ModelDomainWarning, model_notice, training_data
from .tracking import HeldDetector, IoUTracker, ScoreSmoother, box_iou
from .video import (VIDEO_EXTENSIONS, StageTimer, count_frames, is_video_file,
                    open_video, parse_video_source)

__all__ = [
    'FERInferencer', 'BaseFaceDetector', 'HaarFaceDetector',
    'WholeImageDetector', 'build_face_detector', 'expand_box',
    'list_image_files', 'VIDEO_EXTENSIONS', 'count_frames', 'is_video_file',
    'open_video', 'parse_video_source', 'ModelDomainWarning', 'model_notice',
    'training_data', 'IoUTracker', 'ScoreSmoother', 'HeldDetector', 'box_iou',
    'StageTimer'
]
