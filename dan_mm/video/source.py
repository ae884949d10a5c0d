"""Video files and cameras as a stream of frames, for FERInferencer."""
import os.path as osp
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Tuple, Union

import cv2
import numpy as np

from dan_mm.utils.errors import InputError, InputNotFoundError

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
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        capture.release()
        what = f'camera {source}' if isinstance(source, int) else \
            f'the video {source}'
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


class StageTimer:
    """Wall-clock seconds spent per stage of a video loop, summed.

    :meth:`FERInferencer.iter_video` records into one when given it, with
    the stages ``decode`` (reading a frame), ``detect`` (the face
    detector), ``align`` (cropping or warping each face onto the model's
    template, and the test pipeline), ``classify`` (the model) and
    ``draw_write`` (drawing, writing and showing the annotated frame).
    """

    STAGES = ('decode', 'detect', 'align', 'classify', 'draw_write')

    def __init__(self):
        self.seconds: Dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start

    def reset(self) -> None:
        """Forget everything recorded."""
        self.seconds.clear()


@contextmanager
def _untimed(stage: str):
    yield


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
    timer = timer or _untimed
    index = 0
    while max_frames is None or index < max_frames:
        with timer('decode'):
            ok, frame = capture.read()
        if not ok:
            return
        yield index, capture.get(cv2.CAP_PROP_POS_MSEC) / 1000., frame
        index += 1


class AnnotatedVideoWriter:
    """Write frames to an MP4 file (``mp4v``), opened at the first frame
    (when the frame size is known).

    Args:
        path (str): The output file.
        fps (float): Frames per second.
    """

    def __init__(self, path: str, fps: float):
        self.path = path
        self.fps = fps
        self._writer = None

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame."""
        if self._writer is None:
            height, width = frame.shape[:2]
            self._writer = cv2.VideoWriter(self.path,
                                           cv2.VideoWriter_fourcc(*'mp4v'),
                                           self.fps, (width, height))
        self._writer.write(frame)

    def release(self) -> None:
        """Close the file (nothing was written without frames)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
