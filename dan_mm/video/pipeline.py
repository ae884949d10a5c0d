"""Every face of every frame of a video or camera: found, tracked,
classified, smoothed, drawn (:class:`VideoInferencer`)."""
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..inference import FERInferencer
from ..inference.predictions import set_prediction
from ..utils.errors import InputError
from ..visualization import draw_faces
from .display import check_display
from .source import VideoSource, iter_frames, open_video, video_label
from .timing import StageTimer
from .tracking import HeldDetector, IoUTracker, ScoreSmoother
from .writer import AnnotatedVideoWriter

# (index, time_s, frame) as read from the capture.
Frame = Tuple[int, float, np.ndarray]


class VideoInferencer:
    """Find, track and classify every face of every frame of a video or
    camera, with a :class:`~dan_mm.inference.FERInferencer`.

    Frames are read and classified ``batch_size`` at a time (the faces of a
    batch of frames go through the model together). Each face gets a
    ``track_id`` that stays with it across frames
    (:class:`~dan_mm.video.tracking.IoUTracker`), and with ``smooth`` its
    probabilities are an exponential moving average over its track's last
    ``smooth_window`` frames
    (:class:`~dan_mm.video.tracking.ScoreSmoother`).

    Args:
        inferencer (FERInferencer): Detects, crops and classifies the faces
            of one frame.
        batch_size (int): Frames read, and faces classified, together.
            Defaults to 1.
        smooth (bool): Smooth each track's probabilities over time; off,
            every frame is classified on its own. Defaults to True.
        smooth_window (int): The smoothing span in frames. Defaults to 5.
        detect_every (int): Run the face detector on every N-th frame only;
            the frames in between reuse the last detected faces (held in
            place). Defaults to 1 (every frame).

    Example:
        >>> video = VideoInferencer(FERInferencer(cfg, ckpt), batch_size=8)
        >>> for result in video('clip.mp4', out_file='out/clip.mp4'):
        ...     print(result['frame'], [f['track_id'] for f in
        ...                             result['faces']])
    """

    def __init__(self,
                 inferencer: FERInferencer,
                 batch_size: int = 1,
                 smooth: bool = True,
                 smooth_window: int = 5,
                 detect_every: int = 1) -> None:
        self.inferencer = inferencer
        self.batch_size = batch_size
        self.smooth = smooth
        self.smooth_window = smooth_window
        self.detect_every = detect_every
        self._start(None)  # checks the settings now, not at the first frame

    def _start(self, tracker: Optional[IoUTracker]) -> None:
        """Fresh per-video state: tracks, smoothing, the held detector."""
        self.tracker = tracker if tracker is not None else IoUTracker()
        self.smoother = ScoreSmoother(self.smooth_window) \
            if self.smooth else None
        self.detector = HeldDetector(self.inferencer.detector,
                                     self.detect_every)

    def __call__(self,
                 source: VideoSource,
                 max_frames: Optional[int] = None,
                 out_file: Optional[str] = None,
                 show: bool = False,
                 return_maps: bool = False,
                 tracker: Optional[IoUTracker] = None,
                 timer: Optional[StageTimer] = None) -> Iterator[dict]:
        """Results of every frame of ``source``, in order.

        The capture (and ``out_file``) are closed when the frames run out,
        after ``max_frames``, or when the caller stops iterating.

        Args:
            source (str | int): A video file or a camera index.
            max_frames (int, optional): Stop after this many frames (a
                camera never ends). Defaults to None.
            out_file (str, optional): Write an annotated copy here (MP4, the
                source's frame rate). Defaults to None.
            show (bool): Show each annotated frame in a window (needs a
                display). Defaults to False.
            return_maps (bool): Add each face's ``attention_maps``.
                Defaults to False.
            tracker (IoUTracker, optional): Matches faces across frames;
                anything with ``update(boxes (M, 4)) -> (M, ) ids``.
                Defaults to a new ``IoUTracker()``.
            timer (StageTimer, optional): Add the seconds spent per stage
                (:attr:`StageTimer.STAGES`) to it, for benchmarks.
                Defaults to None.

        Yields:
            dict: Per frame, a result as
            :meth:`FERInferencer.__call__`'s with ``input`` the path (or
            ``camera:<i>``), plus ``frame`` (0-based index) and ``time_s``
            (the frame's timestamp in seconds); each face also has
            ``track_id`` (int, from 1) and, with ``smooth``, ``raw_scores``
            (this frame's own probabilities; ``pred_scores`` and the
            predicted class are the smoothed ones).

        Raises:
            InputNotFoundError: The video file does not exist.
            InputError: The source cannot be opened, or has no frame.
            DisplayError: ``show`` where no window can be opened.
        """
        if show:  # before anything is opened or written (Qt would abort)
            check_display('show')
        self._start(tracker)
        timer = timer or StageTimer()
        capture, label = open_video(source), video_label(source)
        writer = None
        if out_file is not None:
            Path(out_file).parent.mkdir(parents=True, exist_ok=True)
            writer = AnnotatedVideoWriter(out_file,
                                          capture.get(cv2.CAP_PROP_FPS) or 25.)
        num_frames = 0
        runs = self._run(capture, isinstance(source, int), max_frames,
                         return_maps, timer)
        try:
            for frame, result in runs:
                self.finish(frame, result, label, timer, writer, show)
                yield result
                num_frames += 1
                if max_frames is not None and num_frames >= max_frames:
                    break
            if num_frames == 0:
                raise InputError(f'cannot read any frame from {label}')
        finally:
            runs.close()  # stops any worker before the capture goes
            capture.release()
            if writer is not None:
                writer.release()

    def _run(self, capture: cv2.VideoCapture, is_camera: bool,
             max_frames: Optional[int], return_maps: bool,
             timer: StageTimer) -> Iterator[Tuple[Frame, dict]]:
        """``(frame, result)`` of every frame in order, one stage after
        the other."""
        for batch in self._batches(iter_frames(capture, max_frames, timer)):
            images = [self.find_faces(frame, timer) for frame in batch]
            yield from zip(batch, self.classify(images, return_maps, timer))

    def _batches(self, frames: Iterator[Frame]) -> Iterator[List[Frame]]:
        batch = []
        for frame in frames:
            batch.append(frame)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def find_faces(self, frame: Frame, timer: StageTimer) -> dict:
        """Detect (or hold) and crop the faces of one frame.

        Returns:
            dict: An image as :meth:`FERInferencer.load_image` gives.
        """
        index, _, img = frame
        with timer('detect'):
            found = self.inferencer.detect(img, self.detector)
        with timer('align'):
            faces = self.inferencer.cropper.crop_faces(img, found)
        return dict(input=index, name=f'{index:06d}', img=img, **faces)

    def classify(self, images: Sequence[dict], return_maps: bool,
                 timer: StageTimer) -> List[dict]:
        """Classify the faces of a batch of frames together.

        Returns:
            list[dict]: A result per frame, as
            :meth:`FERInferencer.postprocess` gives.
        """
        preds = []
        chunks = self.inferencer.preprocess(images, self.batch_size)
        while True:
            with timer('align'):  # the test pipeline
                data = next(chunks, None)
            if data is None:
                break
            with timer('classify'):
                preds.extend(
                    self.inferencer.forward(data, return_maps=return_maps))
        return self.inferencer.postprocess(images, preds)

    def finish(self,
               frame: Frame,
               result: dict,
               label: str,
               timer: StageTimer,
               writer: Optional[AnnotatedVideoWriter] = None,
               show: bool = False) -> None:
        """Name, track, smooth; draw, write and show one frame's result, in
        frame order."""
        index, time_s, img = frame
        result.update(input=label, frame=index, time_s=time_s)
        self.track(result['faces'])
        if writer is not None or show:
            self.draw(img, result['faces'], label, timer, writer, show)

    @staticmethod
    def draw(img: np.ndarray, faces: List[dict], label: str, timer: StageTimer,
             writer: Optional[AnnotatedVideoWriter], show: bool) -> None:
        """Draw one frame's faces; write and show it."""
        with timer('draw_write'):
            drawn = draw_faces(img, faces)
            if writer is not None:
                writer.write(drawn)
            if show:
                cv2.imshow(label, drawn)
                cv2.waitKey(1)

    def track(self, faces: List[dict]) -> None:
        """Set each face's ``track_id``; with smoothing, replace its
        probabilities (and class) by its track's smoothed ones."""
        boxes = np.array([face['box'] for face in faces],
                         np.float64).reshape(-1, 4)
        for face, track_id in zip(faces, self.tracker.update(boxes)):
            face['track_id'] = int(track_id)
            if self.smoother is None:
                continue
            face['raw_scores'] = face['pred_scores']
            set_prediction(
                face, self.smoother.update(int(track_id), face["pred_scores"]),
                self.inferencer.classes, self.inferencer.min_confidence)
        live = getattr(self.tracker, 'track_ids', None)
        if self.smoother is not None and live is not None:
            self.smoother.keep_only(live)
