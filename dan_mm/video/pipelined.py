"""The video loop with its stages overlapping: decoding, detection and
classification (and writing) run in their own threads
(:class:`PipelinedVideoInferencer`).

ONNX Runtime (the detector, the classifier), OpenCV (decoding, warping,
encoding) and PyTorch release the GIL while they work, so on two cores the
stages of consecutive frames run at the same time. Threads are joined by
bounded queues: a slow stage holds the ones before it back instead of
frames piling up in memory.
"""
import os
import queue
import threading
from typing import Any, Callable, Iterator, List, Optional, Tuple

import cv2
import numpy as np

from ..inference import FERInferencer
from .pipeline import Frame, VideoInferencer
from .source import iter_frames
from .timing import StageTimer
from .writer import AnnotatedVideoWriter

_END = object()  # no more items


class _Failed:
    """An exception of a worker thread, raised again by the consumer."""

    def __init__(self, error: BaseException):
        self.error = error


class LatestFrame:
    """A one-item slot that keeps only the newest item: a camera's reader
    replaces a frame nobody took yet, so the loop always works on the
    newest frame and its lag never grows.

    The ``put`` / ``get`` of :class:`queue.Queue`, with ``put`` never
    blocking; :data:`dropped` counts the frames replaced unseen.
    """

    def __init__(self) -> None:
        self._item: Any = None
        self._full = False
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, item: Any, timeout: Optional[float] = None) -> None:
        with self._cond:
            if self._full and item is not _END and \
                    not isinstance(item, _Failed):
                self.dropped += 1
            if not (self._full and self._item is _END):
                self._item, self._full = item, True
            self._cond.notify()

    def get(self, timeout: Optional[float] = None) -> Any:
        with self._cond:
            if not self._cond.wait_for(lambda: self._full, timeout):
                raise queue.Empty
            item = self._item
            if item is not _END:  # the end stays for every later get
                self._item, self._full = None, False
            return item


def stage_threads(num_cores: Optional[int] = None) -> dict:
    """Threads per stage that share ``num_cores`` without spinning against
    each other: the classifier, the slowest stage, may use every core (its
    ONNX Runtime pool threads wait without spinning, so they give a core
    back the moment the detector needs it); the detector, about half as
    busy, gets one (no pool at all).

    Args:
        num_cores (int, optional): Defaults to the cores this process may
            run on.

    Returns:
        dict: ``detector`` and ``classifier`` thread counts.
    """
    if num_cores is None:
        num_cores = len(os.sched_getaffinity(0)) if hasattr(
            os, 'sched_getaffinity') else (os.cpu_count() or 1)
    return dict(detector=1, classifier=max(1, num_cores))


class PipelinedVideoInferencer(VideoInferencer):
    """:class:`~dan_mm.video.VideoInferencer` with decoding, detection,
    classification and writing overlapping in threads.

    A file gives every frame, in order, with the results of the sequential
    loop: each stage sees the frames in order, and the classifier the same
    batches of ``batch_size`` frames. A camera is read as fast as it gives
    frames and the detector always takes the newest one (the others are
    dropped, their indices skipped), so results never fall behind.

    Set the detector's and the classifier's threads so that they share the
    cores (:func:`stage_threads`), e.g. ``FERInferencer(...,
    detector_threads=1, num_threads=2)`` on two cores.

    Args:
        inferencer (FERInferencer): As :class:`VideoInferencer`'s.
        queue_size (int, optional): Items each queue holds. Defaults to
            ``2 * batch_size``.
        **kwargs: The other arguments of :class:`VideoInferencer`.
    """

    def __init__(self,
                 inferencer: FERInferencer,
                 queue_size: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(inferencer, **kwargs)
        self.queue_size = queue_size or 2 * self.batch_size
        self._writes: Optional[queue.Queue] = None
        self._write_error: Optional[BaseException] = None

    def _run(self, capture: cv2.VideoCapture, is_camera: bool,
             max_frames: Optional[int], return_maps: bool,
             timer: StageTimer) -> Iterator[Tuple[Frame, dict]]:
        stop = threading.Event()
        frames = LatestFrame() if is_camera else queue.Queue(self.queue_size)
        found = queue.Queue(self.queue_size)
        self._writes = queue.Queue(self.queue_size)
        self._write_error = None
        workers = [
            self._thread(self._read, capture,
                         None if is_camera else max_frames, timer, frames,
                         stop),
            self._thread(self._detect, frames, found, timer, stop),
            self._thread(self._write, stop),
        ]
        try:
            for batch in self._batches_of(found, is_camera, stop):
                images = [image for _, image in batch]
                results = self.classify(images, return_maps, timer)
                yield from zip((frame for frame, _ in batch), results)
        finally:
            self._writes.put(_END)
            stop.set()
            for worker in workers:
                worker.join()
            self._writes = None

    @staticmethod
    def _thread(target: Callable, *args) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread

    @staticmethod
    def _put(q, item: Any, stop: threading.Event) -> bool:
        """Put, waiting while ``q`` is full; False once stopped."""
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    @staticmethod
    def _get(q, stop: threading.Event) -> Any:
        """The next item; ``_END`` once stopped."""
        while not stop.is_set():
            try:
                return q.get(timeout=0.05)
            except queue.Empty:
                continue
        return _END

    def _read(self, capture: cv2.VideoCapture, max_frames: Optional[int],
              timer: StageTimer, frames, stop: threading.Event) -> None:
        """Decode frames into ``frames`` until the end or a stop."""
        try:
            for frame in iter_frames(capture, max_frames, timer):
                if not self._put(frames, frame, stop):
                    return
            self._put(frames, _END, stop)
        except Exception as error:  # raised again in the caller's thread
            self._put(frames, _Failed(error), stop)

    def _detect(self, frames, found: queue.Queue, timer: StageTimer,
                stop: threading.Event) -> None:
        """Find and crop the faces of each frame, in order."""
        try:
            while True:
                frame = self._get(frames, stop)
                if frame is _END or isinstance(frame, _Failed):
                    self._put(found, frame, stop)
                    return
                if not self._put(found,
                                 (frame, self.find_faces(frame, timer)), stop):
                    return
        except Exception as error:
            self._put(found, _Failed(error), stop)

    def _batches_of(self, found: queue.Queue, is_camera: bool,
                    stop: threading.Event) -> Iterator[List[tuple]]:
        """Batches of ``batch_size`` detected frames, in order (a camera's:
        what is ready, never waiting for more than one)."""
        batch: List[tuple] = []
        while True:
            item = found.get() if not batch or not is_camera else \
                self._get_nowait(found)
            if item is None:  # a camera: nothing more ready now
                yield batch
                batch = []
                continue
            if isinstance(item, _Failed):
                raise item.error
            if item is _END:
                break
            batch.append(item)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    @staticmethod
    def _get_nowait(q: queue.Queue) -> Any:
        try:
            return q.get_nowait()
        except queue.Empty:
            return None

    def draw(self, img: np.ndarray, faces: List[dict], label: str,
             timer: StageTimer, writer: Optional[AnnotatedVideoWriter],
             show: bool) -> None:
        """Writing goes to the writer thread (in order); showing stays in
        this thread (windows belong to it)."""
        if self._write_error is not None:
            raise self._write_error
        if show or self._writes is None:
            super().draw(img, faces, label, timer, writer, show)
        else:  # copies: the caller may change the results it was given
            self._writes.put(
                (img, [dict(face) for face in faces], label, timer, writer))

    def _write(self, stop: threading.Event) -> None:
        """Draw and write frames in order; after a failure, keep taking
        them (the caller raises it at its next frame)."""
        writes = self._writes
        while True:
            item = writes.get()
            if item is _END:
                return
            if self._write_error is None:
                try:
                    super().draw(*item, False)
                except Exception as error:
                    self._write_error = error
