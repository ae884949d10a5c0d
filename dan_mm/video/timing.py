"""Seconds spent per stage of the video loop, for benchmarks."""
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Dict


class StageTimer:
    """Wall-clock seconds spent per stage of a video loop, summed.

    :class:`~dan_mm.video.VideoInferencer` records into one when given it,
    with the stages ``decode`` (reading a frame), ``detect`` (the face
    detector), ``align`` (cropping or warping each face onto the model's
    template, and the test pipeline), ``classify`` (the model) and
    ``draw_write`` (drawing, writing and showing the annotated frame). In
    the pipelined loop the stages overlap, so their sum can exceed the wall
    time.
    """

    STAGES = ('decode', 'detect', 'align', 'classify', 'draw_write')

    def __init__(self):
        self.seconds: Dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()  # stages may run in several threads

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self.seconds[stage] += elapsed

    def reset(self) -> None:
        """Forget everything recorded."""
        self.seconds.clear()


@contextmanager
def untimed(stage: str):
    """A stand-in for a :class:`StageTimer` that records nothing."""
    yield
