"""Run a :class:`~dan_mm.inference.FERInferencer` over an image, a folder, a
video or a camera, and write ``predictions.jsonl`` (what ``tools/infer.py``
does)."""
import contextlib
import os.path as osp
import warnings
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional, Tuple, Union

from tqdm import tqdm

from ..inference import FERInferencer, WholeImageDetector, to_json_line
from ..inference.image_inputs import ImageInputs, collect_inputs
from ..utils.cli import report_logger
from ..utils.errors import InputError, InputNotFoundError, NoFaceFoundError
from ..utils.output_dir import make_output_dir
from ..video import (PipelinedVideoInferencer, Timeline, VideoInferencer,
                     check_display, count_frames, is_video_file,
                     parse_video_source)
from ..video.source import open_video
from ..video.writer import video_codec

# Photos without a face named in the summary; the rest are counted.
MAX_NAMED = 3


class Source(NamedTuple):
    """A checked input: ``path`` (or camera index), whether it is a video,
    and its frame count (None when unknown or not a video)."""
    path: Union[str, int]
    is_video: bool
    num_frames: Optional[int]


def check_source(text: str) -> Source:
    """Parse and check an input before the model is loaded.

    A video file or a camera is opened once here, so that one that cannot
    be opened fails before the (slow) model load.

    Raises:
        InputNotFoundError: The path does not exist.
        InputError: A video or camera cannot be opened.
    """
    source = parse_video_source(text)
    is_video = isinstance(source, int) or is_video_file(source)
    if isinstance(source, int):
        open_video(source).release()  # no such camera: one line, now
    elif not osp.exists(source):
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
                pipelined: bool = False,
                recursive: bool = False,
                images: Optional[ImageInputs] = None) -> Iterator[dict]:
    """Results of every image (or frame) of ``source``, with a progress bar
    for folders and videos; annotated copies are saved in ``out_dir``.
    ``max_frames``, ``show``, ``smooth``, ``detect_every`` and
    ``pipelined`` (:class:`~dan_mm.video.PipelinedVideoInferencer`, else
    :class:`~dan_mm.video.VideoInferencer`) apply to videos and cameras;
    ``recursive`` (also read a folder's subfolders; output names keep the
    relative path) to folders. ``images``: the folder's
    :func:`~dan_mm.inference.image_inputs.collect_inputs`, if collected
    already."""
    if source.is_video:
        total = source.num_frames
        if max_frames is not None:
            total = min(total or max_frames, max_frames)
        name = video_name(source)
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
    inputs = images or collect_inputs(source.path, recursive)
    if not inputs.items:
        raise InputError(f'no image files in the folder {source.path}'
                         f'{skipped_text(inputs, ", ")}')
    results = inferencer.iter_results(
        inputs,
        batch_size=batch_size,
        skip_errors=is_folder,
        show_dir=out_dir,
        draw_heads=show_heads)
    if is_folder:
        results = tqdm(
            results, total=len(inputs.items), desc='images', unit='img')
    return results


def plural(count: int, word: str, words: Optional[str] = None) -> str:
    """``'1 face'``, ``'2 faces'`` (``words``: an irregular plural)."""
    return f'{count} {word if count == 1 else words or word + "s"}'


def named(paths: List[str], limit: int = MAX_NAMED) -> str:
    """The first ``limit`` of ``paths`` by file name, and how many more."""
    shown = ', '.join(osp.basename(p.rstrip('/')) for p in paths[:limit])
    more = len(paths) - limit
    return shown + (f' and {more} more' if more > 0 else '')


def skipped_text(inputs: ImageInputs, prefix: str = '; ') -> str:
    """What the folders held that was not read, e.g. ``'; skipped 1
    subfolder (old) and 1 file that is not an image (notes.txt)'``, or
    ``''``."""
    parts = []
    if inputs.subfolders:
        parts.append(
            f'{plural(len(inputs.subfolders), "subfolder")} '
            f'({named(inputs.subfolders)}; recursive=True reads them)')
    if inputs.other_files:
        what = plural(
            len(inputs.other_files), 'file that is not an image',
            'files that are not images')
        parts.append(f'{what} ({named(inputs.other_files)})')
    return f'{prefix}skipped {" and ".join(parts)}' if parts else ''


@contextlib.contextmanager
def warnings_beside(bar):
    """While ``bar`` is drawn, send Python warnings to the report logger
    (:data:`~dan_mm.utils.cli.REPORT_LOGGER`, which the tools print with
    ``tqdm.write``): on a line of their own rather than glued to the bar's,
    without a source line."""
    if not isinstance(bar, tqdm):
        yield
        return
    show = warnings.showwarning

    def write(message, category, filename, lineno, file=None, line=None):
        report_logger().warning(f'{message} ({category.__name__})')

    warnings.showwarning = write
    try:
        yield
    finally:
        warnings.showwarning = show


def video_name(source: Source) -> str:
    """The name of a video's outputs: ``camera<i>`` or the file's stem."""
    return f'camera{source.path}' if isinstance(source.path, int) \
        else Path(source.path).stem


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
            ``smooth``, ``detect_every``, ``pipelined``, ``recursive`` (see
            :func:`iter_source`).

    Logs a summary line to :data:`~dan_mm.utils.cli.REPORT_LOGGER` (the
    tools print it), e.g. ``3 images, 5 faces; no face in 1 image: c.jpg;
    skipped 1 subfolder (old; ...); results in ...``: the images without a
    face are named (the first few), and what a folder held that was not
    read is counted.

    Returns:
        tuple[int, int]: Images (or frames) and faces.

    Raises:
        OutputDirError: ``out_dir`` is a file, or cannot be created or
            written (before any work).
        DisplayError: ``show`` where no window can be opened (before any
            work).
        InputError: Files of a folder could not be read (after writing the
            others).
        NoFaceFoundError: No face at all.
    """
    if kwargs.get('show') and source.is_video:
        check_display('show')  # before anything is written: Qt would abort
    make_output_dir(out_dir, 'out_dir')
    images = None
    if not source.is_video and osp.isdir(source.path):
        images = collect_inputs(source.path, kwargs.get('recursive', False))
    results = iter_source(inferencer, source, out_dir, images=images, **kwargs)
    num_items = num_faces = 0
    unreadable, no_face = [], []
    track = Timeline(inferencer.classes) \
        if source.is_video and timeline else None
    with open(osp.join(out_dir, 'predictions.jsonl'), 'w') as jsonl, \
            warnings_beside(results):
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
                elif not result['faces'] and not source.is_video:
                    no_face.append(str(result['input']))
        except KeyboardInterrupt:  # a camera runs until stopped
            results.close()
    kind = 'frame' if source.is_video else 'image'
    summary = f'{plural(num_items, kind)}, {plural(num_faces, "face")}'
    if no_face and num_faces:
        summary += (f'; no face in {plural(len(no_face), "image")}: '
                    f'{named(no_face)}')
    if images is not None:
        summary += skipped_text(images)
    log = report_logger()
    log.info(f'{summary}; results in {out_dir} (predictions.jsonl)')
    if source.is_video and num_items:
        log.info(f'video: {osp.join(out_dir, video_name(source))}.mp4, '
                 f'{video_codec()}')
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
