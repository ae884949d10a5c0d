"""Video files and cameras as a stream of frames."""
import contextlib
import os.path as osp
from typing import Iterator, Optional, Tuple, Union

import cv2
import numpy as np

from ..utils.errors import InputError, InputNotFoundError
from .timing import StageTimer, untimed

# Containers OpenCV's FFmpeg backend reads; anything else is an image.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv')

VideoSource = Union[str, int]


def is_video_file(path: str) -> bool:
    """Whether ``path`` names a video file (by its extension)."""
    return str(path).lower().endswith(VIDEO_EXTENSIONS)


def parse_video_source(source: str) -> VideoSource:
    """A command-line input as a video source: ``'0'`` is camera 0 unless a
    file of that name exists; anything else stays a path."""
    if source.isdigit() and not osp.exists(source):
        return int(source)
    return source


def video_label(source: VideoSource) -> str:
    """How results name a source: the path, or ``camera:<i>``."""
    return f'camera:{source}' if isinstance(source, int) else str(source)


@contextlib.contextmanager
def quiet_opencv():
    """Silence OpenCV's own log (its ``[ WARN ]`` and ``[ERROR]`` lines)
    for a while, then restore its level.

    Opening a camera that is not there makes every capture backend OpenCV
    tries (V4L2, FFmpeg, Orbbec, ...) log why it failed, about ten lines;
    the one error raised afterwards says it all.
    """
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def open_video(source: VideoSource) -> cv2.VideoCapture:
    """Open a video file or a camera.

    Args:
        source (str | int): A video file, or a camera index.

    Returns:
        cv2.VideoCapture: The opened capture.

    Raises:
        InputNotFoundError: The file does not exist.
        InputError: OpenCV cannot open it.
    """
    if not isinstance(source, int) and not osp.isfile(source):
        raise InputNotFoundError(f'input not found: {source}')
    with quiet_opencv():
        capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        capture.release()
        what = f'camera {source} (no such camera, or it is in use)' \
            if isinstance(source, int) else f'the video {source}'
        raise InputError(f'cannot open {what}')
    return capture


def count_frames(source: VideoSource) -> Optional[int]:
    """The frame count a video file declares; None for a camera or when
    the container does not say."""
    if isinstance(source, int):
        return None
    capture = open_video(source)
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    finally:
        capture.release()


def iter_frames(
    capture: cv2.VideoCapture,
    max_frames: Optional[int] = None,
    timer: Optional[StageTimer] = None
) -> Iterator[Tuple[int, float, np.ndarray]]:
    """Read frames until the end, or ``max_frames``.

    Args:
        capture (cv2.VideoCapture): An opened capture.
        max_frames (int, optional): Stop after this many frames.
        timer (StageTimer, optional): Add the reading time to ``decode``.

    Yields:
        tuple: ``(index, time_s, frame)``: the 0-based frame index, its
        timestamp in seconds and the BGR ``uint8`` frame.
    """
    timer = timer or untimed
    index = 0
    while max_frames is None or index < max_frames:
        with timer('decode'):
            ok, frame = capture.read()
        if not ok:
            return
        yield index, capture.get(cv2.CAP_PROP_POS_MSEC) / 1000., frame
        index += 1
