"""Recognise the expression of every face in images, folders, video, camera.

Writes to ``--out-dir``:

- ``<name>.png``: each image with a box, class and score per face;
  ``<name>_attention.png`` with ``--show-heads`` (images only): per face the
  crop and each head's attention map (DAN's Figure 1);
- ``<name>.mp4``: an annotated copy of a video (``camera<i>.mp4`` for a
  camera);
- ``predictions.jsonl``: one JSON object per image or video frame::

    {"input": "photos/a.jpg",        # path (or "camera:0")
     "frame": null,                  # frame index for videos, else null
     "time_s": null,                 # frame time in seconds for videos
     "img_shape": [480, 640],        # H, W
     "faces": [{"box": [x1, y1, x2, y2],       # detected face, pixels
                "track_id": 1,                 # videos: same face, same id
                "crop_box": [x1, y1, x2, y2],  # with margin: what DAN saw
                "pred_label": 3,
                "pred_class": "Happiness",
                "pred_score": 0.91,
                "pred_scores": {"Surprise": 0.01, ..., "Neutral": 0.02}}],
     "error": "..."}                 # only for an unreadable file (folders)

Exit status: 0 on success; 1 when the input (or a file of a folder) cannot
be read or a video cannot be opened (one ``error:`` line; ``--debug`` for
the traceback); 2 when no face is found at all
(:class:`~dan_mm.utils.errors.NoFaceFoundError`), so that scripts can tell
"nothing to classify" apart from a failure.

Examples:
    python tools/infer.py configs/dan_r18_rafdb.py dan.pth photo.jpg
    python tools/infer.py configs/dan_r18_rafdb.py dan.pth photos/ --show-heads
    python tools/infer.py configs/dan_r18_rafdb.py dan.pth clip.mp4 \\
        --batch-size 16
    python tools/infer.py configs/dan_r18_rafdb.py dan.pth 0 --max-frames 300
    python tools/infer.py configs/dan_r18_rafdb.py dan.pth rafdb/aligned \\
        --no-detect
"""
import argparse
import json
import os
import os.path as osp
import sys
import warnings
from pathlib import Path
from typing import Iterator, Optional, Sequence

from tqdm import tqdm

from dan_mm.apis import (FERInferencer, ModelDomainWarning, count_frames,
                         is_video_file, list_image_files, parse_video_source)
from dan_mm.utils.cli import (add_debug_argument, add_precision_argument,
                              add_trust_checkpoint_argument,
                              check_checkpoint_file, exit_on_user_error)
from dan_mm.utils.config import load_config
from dan_mm.utils.errors import (InputError, InputNotFoundError,
                                 NoFaceFoundError)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='DAN facial expression recognition on images, folders, '
        'videos or a camera')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        'input',
        help='image, folder of images, video file '
        'or camera index (e.g. 0)')
    parser.add_argument(
        '--out-dir',
        default='work_dirs/infer',
        help='where annotated files and predictions.jsonl go')
    parser.add_argument(
        '--show-heads',
        action='store_true',
        help='also save per-head attention maps (images)')
    parser.add_argument(
        '--no-detect',
        action='store_true',
        help='inputs are aligned face crops: no detection')
    parser.add_argument(
        '--device',
        default=None,
        help='e.g. cpu, cuda:0 (default: cuda if available)')
    parser.add_argument(
        '--batch-size',
        type=positive_int,
        default=8,
        help='faces classified together')
    parser.add_argument(
        '--margin',
        type=float,
        default=0.2,
        help='crop margin around a detected face (fraction)')
    parser.add_argument(
        '--deploy',
        action='store_true',
        help='fuse the attention heads (switch_to_deploy)')
    parser.add_argument('--channels-last', action='store_true')
    add_precision_argument(parser)
    parser.add_argument(
        '--max-frames',
        type=positive_int,
        default=None,
        help='stop a video / camera after this many frames')
    parser.add_argument(
        '--show',
        action='store_true',
        help='display video / camera frames in a window')
    parser.add_argument(
        '--no-smooth',
        action='store_true',
        help='video / camera: classify every frame on its own (default: a '
        'tracked face\'s probabilities are averaged over ~5 frames)')
    parser.add_argument(
        '--detect-every',
        type=positive_int,
        default=1,
        help='video / camera: detect faces every N frames, hold them in '
        'between')
    add_trust_checkpoint_argument(parser)
    add_debug_argument(parser)
    return parser.parse_args(argv)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def to_json(result: dict, classes) -> str:
    """One predictions.jsonl line (see the module docstring)."""
    faces = []
    for face in result['faces']:
        scores = [round(float(p), 6) for p in face['pred_scores']]
        faces.append(
            dict(
                box=[round(v, 1) for v in face['box']],
                crop_box=face['crop_box'],
                pred_label=face['pred_label'],
                pred_class=face.get('pred_class'),
                pred_score=round(face['pred_score'], 6),
                pred_scores=dict(zip(classes, scores)) if classes else scores))
        if 'track_id' in face:
            faces[-1]['track_id'] = face['track_id']
    time_s = result.get('time_s')
    line = dict(
        input=str(result['input']),
        frame=result.get('frame'),
        time_s=None if time_s is None else round(time_s, 3),
        img_shape=list(result['img_shape']) if 'img_shape' in result else None,
        faces=faces)
    if 'error' in result:
        line['error'] = result['error']
    return json.dumps(line)


def video_results(inferencer: FERInferencer, args, source,
                  total: Optional[int]) -> Iterator[dict]:
    """A video file or a camera, with a progress bar to ``total`` frames."""
    if args.max_frames is not None:
        total = min(total or args.max_frames, args.max_frames)
    name = f'camera{source}' if isinstance(source, int) else \
        Path(source).stem
    results = inferencer.iter_video(
        source,
        batch_size=args.batch_size,
        max_frames=args.max_frames,
        out_file=osp.join(args.out_dir, f'{name}.mp4'),
        show=args.show,
        smooth=not args.no_smooth,
        detect_every=args.detect_every)
    yield from tqdm(results, total=total, desc='frames', unit='frame')


def image_results(inferencer: FERInferencer, args,
                  source: str) -> Iterator[dict]:
    """An image, or a folder of images (unreadable files are recorded and
    skipped, with a progress bar)."""
    is_folder = osp.isdir(source)
    inputs = list_image_files(source) if is_folder else [source]
    if not inputs:
        raise InputError(f'no image files in the folder {source}')
    results = inferencer.iter_results(
        inputs,
        batch_size=args.batch_size,
        skip_errors=is_folder,
        show_dir=args.out_dir,
        draw_heads=args.show_heads)
    if is_folder:
        results = tqdm(results, total=len(inputs), desc='images', unit='img')
    yield from results


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    warnings.simplefilter('ignore', ModelDomainWarning)  # a note, below
    load_config(args.config)  # one clear line if missing
    check_checkpoint_file(args.checkpoint)
    source = parse_video_source(args.input)
    is_video = isinstance(source, int) or is_video_file(source)
    if not isinstance(source, int) and not osp.exists(source):
        raise InputNotFoundError(f'input not found: {source}')
    # Opens a video file once: one that cannot be opened fails here, before
    # the model is loaded.
    num_frames = count_frames(source) if is_video else None

    inferencer = FERInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        no_detect=args.no_detect,
        margin=args.margin,
        deploy=args.deploy,
        channels_last=args.channels_last,
        precision=args.precision)
    os.makedirs(args.out_dir, exist_ok=True)
    if is_video:
        results = video_results(inferencer, args, source, num_frames)
    else:
        results = image_results(inferencer, args, source)
    num_items = num_faces = 0
    unreadable = []
    with open(osp.join(args.out_dir, 'predictions.jsonl'), 'w') as jsonl:
        try:
            for result in results:
                jsonl.write(to_json(result, inferencer.classes) + '\n')
                num_items += 1
                num_faces += len(result['faces'])
                if 'error' in result:
                    unreadable.append(result['error'])
                    print(
                        f'warning: {result["error"]}; skipped',
                        file=sys.stderr)
        except KeyboardInterrupt:  # a camera runs until stopped
            results.close()
    kind = 'frames' if is_video else 'images'
    print(f'{num_items} {kind}, {num_faces} faces; results in {args.out_dir} '
          f'(predictions.jsonl)')
    if inferencer.model_notice:  # a model of drawn faces (SynthFER)
        print(f'note: {inferencer.model_notice}')
    if unreadable:
        raise InputError(
            f'{len(unreadable)} of {num_items} images in {source} could not '
            'be read (their "error" lines in predictions.jsonl say why; '
            f'first: {unreadable[0]})')
    if num_faces == 0:
        hint = '' if args.no_detect else \
            ' (for aligned face crops use --no-detect)'
        raise NoFaceFoundError(f'no face found in {source}{hint}')


if __name__ == '__main__':
    main()
