"""Video and camera: frames in, tracked and smoothed per-face expressions
and an annotated video out (:class:`VideoInferencer`)."""
from .display import check_display
from .pipeline import VideoInferencer
from .pipelined import PipelinedVideoInferencer, stage_threads
from .source import (VIDEO_EXTENSIONS, count_frames, is_video_file,
                     parse_video_source)
from .timeline import Timeline
from .timing import StageTimer
from .tracking import IoUTracker, ScoreSmoother

__all__ = [
    'VideoInferencer', 'PipelinedVideoInferencer', 'stage_threads',
    'VIDEO_EXTENSIONS', 'count_frames', 'is_video_file', 'parse_video_source',
    'StageTimer', 'IoUTracker', 'ScoreSmoother', 'Timeline', 'check_display'
]
