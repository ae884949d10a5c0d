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
                "crop_box": [x1, y1, x2, y2],  # with margin: what DAN saw
                "pred_label": 3,
                "pred_class": "Happiness",
                "pred_score": 0.91,
                "pred_scores": {"Surprise": 0.01, ..., "Neutral": 0.02}}],
     "error": "..."}                 # only for an unreadable file (folders)

Exit status: 0 on success; 1 when the input (or a file of a folder) cannot
be read or a video cannot be opened; 2 when no face is found at all.

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
from pathlib import Path

import cv2
from tqdm import tqdm

from dan_mm.apis import FERInferencer  # registers DAN's components
from dan_mm.utils.tool_utils import add_trust_checkpoint_argument, load_config
from dan_mm.visualization import draw_faces

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv')


def parse_args():
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
        '--batch-size', type=int, default=8, help='faces classified together')
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
    parser.add_argument(
        '--precision',
        choices=['fp32', 'bf16', 'fp16'],
        default='fp32',
        help='autocast precision')
    parser.add_argument(
        '--max-frames',
        type=int,
        default=None,
        help='stop a video / camera after this many frames')
    parser.add_argument(
        '--show',
        action='store_true',
        help='display video / camera frames in a window')
    add_trust_checkpoint_argument(parser)
    args = parser.parse_args()
    if args.batch_size < 1:
        parser.error('--batch-size must be >= 1')
    return args


def fail(message: str, code: int = 1):
    print(f'error: {message}', file=sys.stderr)
    sys.exit(code)


def to_json(result: dict,
            classes,
            source: str,
            frame=None,
            time_s=None) -> str:
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
    line = dict(
        input=source,
        frame=frame,
        time_s=time_s,
        img_shape=list(result['img_shape']) if 'img_shape' in result else None,
        faces=faces)
    if 'error' in result:
        line['error'] = result['error']
    return json.dumps(line)


def run_images(inferencer, args, inputs, jsonl, progress: bool):
    """Images or a folder. Returns (items, faces, unreadable)."""
    num_items = num_faces = 0
    unreadable = []
    results = inferencer.iter_results(
        inputs,
        batch_size=args.batch_size,
        skip_errors=True,
        show_dir=args.out_dir,
        draw_heads=args.show_heads)
    if progress:
        results = tqdm(results, total=len(inputs), desc='images', unit='img')
    for result in results:
        jsonl.write(
            to_json(result, inferencer.classes, result['input']) + '\n')
        num_items += 1
        num_faces += len(result['faces'])
        if 'error' in result:
            unreadable.append(result['error'])
    return num_items, num_faces, unreadable


def run_video(inferencer, args, capture, source: str, name: str, jsonl):
    """A video file or a camera. Returns (frames, faces)."""
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    if args.max_frames is not None:
        total = min(total or args.max_frames, args.max_frames)
    writer, out_path = None, osp.join(args.out_dir, f'{name}.mp4')
    num_frames = num_faces = 0
    bar = tqdm(total=total, desc='frames', unit='frame')

    def flush(frames, times):
        nonlocal writer, num_faces
        results = inferencer(frames, batch_size=args.batch_size)
        for index, (frame, time_s,
                    result) in enumerate(zip(frames, times, results)):
            drawn = draw_faces(frame, result['faces'])
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(out_path,
                                         cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         (width, height))
            writer.write(drawn)
            if args.show:
                cv2.imshow(source, drawn)
                cv2.waitKey(1)
            jsonl.write(
                to_json(
                    result,
                    inferencer.classes,
                    source,
                    frame=num_frames - len(frames) + index,
                    time_s=round(time_s, 3)) + '\n')
            num_faces += len(result['faces'])
        bar.update(len(frames))

    frames, times = [], []
    try:
        while args.max_frames is None or num_frames < args.max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
            times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.)
            num_frames += 1
            if len(frames) == args.batch_size:
                flush(frames, times)
                frames, times = [], []
    except KeyboardInterrupt:
        pass
    if frames:
        flush(frames, times)
    bar.close()
    capture.release()
    if writer is not None:
        writer.release()
    return num_frames, num_faces


def main():
    args = parse_args()
    load_config(args.config)  # one clear line if missing
    if not osp.isfile(args.checkpoint):
        fail(f'checkpoint not found: {args.checkpoint}')

    source, camera = args.input, None
    if source.isdigit() and not osp.exists(source):
        camera = int(source)
    elif not osp.exists(source):
        fail(f'input not found: {source}')

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
    jsonl_path = osp.join(args.out_dir, 'predictions.jsonl')
    unreadable = []
    with open(jsonl_path, 'w') as jsonl:
        if camera is not None or source.lower().endswith(VIDEO_EXTENSIONS):
            capture = cv2.VideoCapture(
                camera if camera is not None else source)
            if not capture.isOpened():
                what = f'camera {camera}' if camera is not None else \
                    f'the video {source}'
                fail(f'cannot open {what}')
            name = f'camera{camera}' if camera is not None else \
                Path(source).stem
            label = f'camera:{camera}' if camera is not None else source
            num_items, num_faces = run_video(inferencer, args, capture, label,
                                             name, jsonl)
            if num_items == 0:
                fail(f'cannot read any frame from {label}')
            kind = 'frames'
        elif osp.isdir(source):
            inputs = inferencer._inputs_to_list(source)
            if not inputs:
                fail(f'no image files in the folder {source}')
            num_items, num_faces, unreadable = run_images(
                inferencer, args, inputs, jsonl, progress=True)
            kind = 'images'
        else:
            num_items, num_faces, unreadable = run_images(
                inferencer, args, [source], jsonl, progress=False)
            kind = 'images'
    print(f'{num_items} {kind}, {num_faces} faces; results in {args.out_dir} '
          f'(predictions.jsonl)')
    for message in unreadable:
        print(f'error: {message}', file=sys.stderr)
    if unreadable:
        sys.exit(1)
    if num_faces == 0:
        hint = '' if args.no_detect else \
            ' (for aligned face crops use --no-detect)'
        fail(f'no face found in {source}{hint}', code=2)


if __name__ == '__main__':
    main()
