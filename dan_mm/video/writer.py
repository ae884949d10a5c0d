"""The annotated copy of a video: frames in, an MP4 file out.

H.264 (libx264, yuv420p), which every browser plays, through PyAV, whose
wheels bundle FFmpeg with libx264: opencv-python's wheel has no software
H.264 encoder (``avc1`` only finds ``h264_v4l2m2m`` hardware). Without
PyAV, OpenCV writes MPEG-4 Part 2 (``mp4v``), which desktop players play
and browsers do not; :func:`video_codec` says which one a run gets.
"""
import logging
from fractions import Fraction
from functools import lru_cache

import cv2
import numpy as np

logger = logging.getLogger(__name__)

H264 = 'H.264 (libx264 via PyAV)'
MP4V = 'MPEG-4 Part 2 (mp4v via OpenCV; browsers do not play it: pip ' \
    'install av for H.264)'


@lru_cache(maxsize=None)
def _pyav_h264() -> bool:
    try:
        import av
        av.codec.Codec('libx264', 'w')
    except Exception:  # not installed, or an FFmpeg without libx264
        return False
    return True


def video_codec() -> str:
    """The codec :class:`AnnotatedVideoWriter` writes with, in words:
    :data:`H264` where PyAV with libx264 is installed, else :data:`MP4V`."""
    return H264 if _pyav_h264() else MP4V


class AnnotatedVideoWriter:
    """Write frames to an MP4 file, opened at the first frame (when the
    frame size is known), in the codec :func:`video_codec` names.

    Args:
        path (str): The output file.
        fps (float): Frames per second.
        h264 (bool, optional): H.264 through PyAV (True) or ``mp4v``
            through OpenCV (False). Defaults to H.264 where available.
    """

    def __init__(self, path: str, fps: float, h264: bool = None):
        self.path = path
        self.fps = fps
        self.h264 = _pyav_h264() if h264 is None else h264
        self.codec = H264 if self.h264 else MP4V
        self._writer = None
        self._stream = None
        self._size = None

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame."""
        if self._writer is None:
            self._open(*frame.shape[:2])
        if not self.h264:
            self._writer.write(frame)
            return
        import av
        height, width = self._size
        if frame.shape[:2] != (height, width):  # yuv420p: even sides
            frame = np.ascontiguousarray(frame[:height, :width])
        image = av.VideoFrame.from_ndarray(frame, format='bgr24')
        self._writer.mux(self._stream.encode(image))

    def _open(self, height: int, width: int) -> None:
        if not self.h264:
            self._writer = cv2.VideoWriter(self.path,
                                           cv2.VideoWriter_fourcc(*'mp4v'),
                                           self.fps, (width, height))
            return
        import av

        # 4:2:0 chroma needs even sides: an odd last row or column is cut.
        self._size = (max(2, height - height % 2), max(2, width - width % 2))
        self._writer = av.open(self.path, 'w')
        rate = Fraction(self.fps).limit_denominator(1001)
        # One encoder thread: the video loop's stages share the cores.
        self._stream = self._writer.add_stream(
            'libx264',
            rate=rate,
            options=dict(crf='20', preset='veryfast', threads='1'))
        self._stream.height, self._stream.width = self._size
        self._stream.pix_fmt = 'yuv420p'
        logger.info('writing %s in %s', self.path, self.codec)

    def release(self) -> None:
        """Close the file (nothing was written without frames)."""
        if self._writer is None:
            return
        if self.h264:
            self._writer.mux(self._stream.encode())  # the delayed frames
            self._writer.close()
        else:
            self._writer.release()
        self._writer = self._stream = None
