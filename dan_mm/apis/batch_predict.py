"""Run a :class:`~dan_mm.inference.FERInferencer` over an image, a folder, a
video or a camera, and write ``predictions.jsonl`` (what ``tools/infer.py``
does)."""
import os
import os.path as osp
from pathlib import Path
from typing import Iterator, NamedTuple, Optional, Tuple, Union

from tqdm import tqdm

from ..inference import (FERInferencer, WholeImageDetector, list_image_files,
                         to_json_line)
from ..utils.cli import report_logger
from ..utils.errors import InputError, InputNotFoundError, NoFaceFoundError
from ..video import (PipelinedVideoInferencer, Timeline, VideoInferencer,
                     count_frames, is_video_file, parse_video_source)


class Source(NamedTuple):
    """A checked input: ``path`` (or camera index), whether it is a video,
    and its frame count (None when unknown or not a video)."""
    path: Union[str, int]
    is_video: bool
    num_frames: Optional[int]


def check_source(text: str) -> Source:
    """Parse and check an input before the model is loaded.

    A video file is opened once here, so that one that cannot be opened
    fails before the (slow) model load.

    Raises:
        InputNotFoundError: The path does not exist.
        InputError: A video cannot be opened.
    """
    source = parse_video_source(text)
    is_video = isinstance(source, int) or is_video_file(source)
    if not isinstance(source, int) and not osp.exists(source):
        raise InputNotFoundError(f'input not found: {source}')
    return Source(source, is_video, count_frames(source) if is_video else None)


def iter_source(inferencer: FERInferencer,
                source: Source,
                out_dir: str,
                batch_size: int = 8,
                show_heads: bool = False,
                max_frames: Optional[int] = None,
                show: bool = False,
                smooth: bool = True,
                detect_every: int = 1,
                pipelined: bool = False) -> Iterator[dict]:
    """Results of every image (or frame) of ``source``, with a progress bar
    for folders and videos; annotated copies are saved in ``out_dir``.
    ``max_frames``, ``show``, ``smooth``, ``detect_every`` and
    ``pipelined`` (:class:`~dan_mm.video.PipelinedVideoInferencer`, else
    :class:`~dan_mm.video.VideoInferencer`) apply to videos and cameras."""
    if source.is_video:
        total = source.num_frames
        if max_frames is not None:
            total = min(total or max_frames, max_frames)
        name = f'camera{source.path}' if isinstance(source.path, int) \
            else Path(source.path).stem
        loop = PipelinedVideoInferencer if pipelined else VideoInferencer
        video = loop(
            inferencer,
            batch_size=batch_size,
            smooth=smooth,
            detect_every=detect_every)
        results = video(
            source.path,
            max_frames=max_frames,
            out_file=osp.join(out_dir, f'{name}.mp4'),
            show=show)
        return tqdm(results, total=total, desc='frames', unit='frame')
    is_folder = osp.isdir(source.path)
    inputs = list_image_files(source.path) if is_folder else [source.path]
    if not inputs:
        raise InputError(f'no image files in the folder {source.path}')
    results = inferencer.iter_results(
        inputs,
        batch_size=batch_size,
        skip_errors=is_folder,
        show_dir=out_dir,
        draw_heads=show_heads)
    if is_folder:
        results = tqdm(results, total=len(inputs), desc='images', unit='img')
    return results


def predict_source(inferencer: FERInferencer,
                   source: Source,
                   out_dir: str,
                   timeline: bool = True,
                   **kwargs) -> Tuple[int, int]:
    """Classify every face of ``source``; write ``out_dir/predictions.jsonl``
    (one :func:`~dan_mm.inference.predictions.prediction_record` a line)
    and, for a video or camera, each track's expression over time
    (``timeline.csv``, ``timeline.png``: :class:`~dan_mm.video.Timeline`).

    Args:
        inferencer (FERInferencer): The model and its detector.
        source (Source): From :func:`check_source`.
        out_dir (str): Where annotated files and predictions.jsonl go.
        timeline (bool): For a video or camera, also write the timeline.
            Defaults to True.
        **kwargs: ``batch_size``, ``show_heads``, ``max_frames``, ``show``,
            ``smooth``, ``detect_every``, ``pipelined`` (see
            :func:`iter_source`).

    Logs a summary line, e.g. ``3 images, 5 faces; results in ...``, to
    :data:`~dan_mm.utils.cli.REPORT_LOGGER` (the tools print it).

    Returns:
        tuple[int, int]: Images (or frames) and faces.

    Raises:
        InputError: Files of a folder could not be read (after writing the
            others).
        NoFaceFoundError: No face at all.
    """
    os.makedirs(out_dir, exist_ok=True)
    results = iter_source(inferencer, source, out_dir, **kwargs)
    num_items = num_faces = 0
    unreadable = []
    track = Timeline(inferencer.classes) \
        if source.is_video and timeline else None
    with open(osp.join(out_dir, 'predictions.jsonl'), 'w') as jsonl:
        try:
            for result in results:
                jsonl.write(to_json_line(result, inferencer.classes) + '\n')
                if track is not None:
                    track.add(result)
                num_items += 1
                num_faces += len(result['faces'])
                if 'error' in result:
                    unreadable.append(result['error'])
                    report_logger().warning(f'{result["error"]}; skipped')
        except KeyboardInterrupt:  # a camera runs until stopped
            results.close()
    kind = 'frames' if source.is_video else 'images'
    log = report_logger()
    log.info(f'{num_items} {kind}, {num_faces} faces; results in {out_dir} '
             '(predictions.jsonl)')
    if track is not None and len(track):
        title = ('classes not meaningful: a model of drawn faces (SynthFER)'
                 if inferencer.model_notice else None)
        csv_path, png_path = track.write(out_dir, title=title)
        log.info(f'timeline: {csv_path}, {png_path}')
    if inferencer.model_notice:  # a model of drawn faces (SynthFER)
        log.info(f'note: {inferencer.model_notice}')
    if unreadable:
        raise InputError(
            f'{len(unreadable)} of {num_items} images in {source.path} could '
            'not be read (their "error" lines in predictions.jsonl say why; '
            f'first: {unreadable[0]})')
    if num_faces == 0:
        hint = '' if isinstance(inferencer.detector, WholeImageDetector) \
            else ' (for aligned face crops use --no-detect)'
        raise NoFaceFoundError(f'no face found in {source.path}{hint}')
    return num_items, num_faces
