"""The annotated copy of a video: frames in, an MP4 file out."""
import cv2
import numpy as np


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
