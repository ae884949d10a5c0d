"""Video and camera: frames in, tracked and smoothed per-face expressions
and an annotated video out."""
from .source import (VIDEO_EXTENSIONS, AnnotatedVideoWriter, StageTimer,
                     count_frames, is_video_file, open_video,
                     parse_video_source)
from .tracking import HeldDetector, IoUTracker, ScoreSmoother, box_iou

__all__ = [
    'VIDEO_EXTENSIONS', 'AnnotatedVideoWriter', 'StageTimer', 'count_frames',
    'is_video_file', 'open_video', 'parse_video_source', 'HeldDetector',
    'IoUTracker', 'ScoreSmoother', 'box_iou'
]
