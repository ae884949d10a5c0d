"""Recognise the expression of every face in images, folders, video, camera.

Faces are found by RetinaFace (five landmarks; ``--detector haar`` for
OpenCV's cascade) and cropped as the model's training faces were: the
config's ``face_crop`` (aligned onto a template for RAF-DB, the box with a
margin for others); ``--crop`` and ``--margin`` override it.

Writes to ``--out-dir``: ``<name>.png`` (boxes and labels), with
``--show-heads`` ``<name>_attention.png`` (DAN's Figure 1), ``<name>.mp4``
for a video (``camera<i>.mp4``), ``predictions.jsonl``, one JSON object
per image or frame (format: :mod:`dan_mm.inference.predictions`), and for a
video or camera ``timeline.csv`` and ``timeline.png``, each tracked face's
expression over time (``--no-timeline``: not).

Every source on the CPU in fp32 runs the fastest path with the same results
by itself (:func:`dan_mm.runtime.choose_backend`): the deploy model exported
to ONNX once (cached by the checkpoint's hash under ``~/.cache/dan_mm/onnx``,
``$DAN_MM_ONNX_CACHE``) and run by ONNX Runtime; a video or camera runs in a
loop whose decoding, detection and classification overlap on the cores.
``--onnx FILE`` runs a given export (e.g. an int8 one from
``tools/deployment/quantize_onnx.py``) on any input; ``--backend pytorch``
always runs PyTorch. Attention maps (``--show-heads``) are PyTorch's, and
PyTorch then classifies too (one pass).

Exit status: 0 on success; 1 when the input (or a file of a folder) cannot
be read or a video cannot be opened (one ``error:`` line; ``--debug`` for
the traceback); 2 when no face is found at all.

A model name in place of CONFIG CHECKPOINT runs the DAN authors' released
model of that name, downloaded once into dan_mm's cache
(docs/checkpoints.md); ``python tools/infer.py`` alone lists the names.

Examples (CFG=configs/dan_r18_rafdb.py):
    python tools/infer.py dan_r18_3rdparty_rafdb photo.jpg
    python tools/infer.py $CFG dan.pth photo.jpg
    python tools/infer.py $CFG dan.pth photos/ --show-heads --detector haar
    python tools/infer.py $CFG dan.pth clip.mp4 --batch-size 16
    python tools/infer.py $CFG dan.pth clip.mp4 --onnx dan.int8.onnx
    python tools/infer.py $CFG dan.pth 0 --max-frames 300
    python tools/infer.py $CFG dan.pth rafdb/aligned --no-detect
"""
import argparse
import warnings
from typing import Optional, Sequence

from dan_mm.apis import check_source, predict_source
from dan_mm.inference import (DETECTOR_SHORTCUTS, FERInferencer,
                              ModelDomainWarning)
from dan_mm.runtime import choose_backend, resolve_model
from dan_mm.utils.cli import (add_config_mismatch_argument, add_debug_argument,
                              add_precision_argument,
                              add_trust_checkpoint_argument,
                              check_checkpoint_file, exit_on_user_error)
from dan_mm.utils.config import load_config
from dan_mm.video import stage_threads
from dan_mm.zoo import is_model_name, split_model_arguments


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='DAN facial expression recognition on images, folders, '
        'videos or a camera')
    parser.add_argument(
        'config',
        nargs='?',
        help='model name (e.g. dan_r18_3rdparty_rafdb; none: list them) or '
        'model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file or URL (left out after a model name)')
    parser.add_argument(
        'input',
        nargs='?',
        help='image, folder of images, video file or camera index')
    parser.add_argument('--out-dir', default='work_dirs/infer')
    parser.add_argument(
        '--show-heads', action='store_true', help='save attention maps')
    parser.add_argument(
        '--detector',
        choices=list(DETECTOR_SHORTCUTS),
        default=None,
        help='face detector (default: the config\'s face_detector, else '
        'retinaface); none: each image is one face')
    parser.add_argument(
        '--no-detect',
        action='store_true',
        help='inputs are aligned face crops: no detection (= --detector none)')
    parser.add_argument(
        '--detector-threads',
        type=positive_int,
        default=None,
        help='CPU threads of the RetinaFace detector (default: torch\'s)')
    parser.add_argument(
        '--crop',
        choices=['box', 'aligned'],
        default=None,
        help='how faces are cut (default: the config\'s face_crop)')
    parser.add_argument(
        '--margin',
        type=float,
        default=None,
        help='box crop margin, a fraction of the box (default: the config\'s)')
    parser.add_argument(
        '--device', help='e.g. cpu, cuda:0 (default: cuda '
        'if available)')
    parser.add_argument(
        '--batch-size', type=positive_int, default=8, help='faces at once')
    parser.add_argument(
        '--deploy', action='store_true', help='fuse the attention heads')
    parser.add_argument('--channels-last', action='store_true')
    add_precision_argument(parser)
    parser.add_argument(
        '--backend',
        choices=['pytorch', 'onnxruntime'],
        default=None,
        help='what classifies the faces (default: onnxruntime on the CPU '
        'in fp32 without --show-heads, through the deploy model exported '
        'once; else pytorch); pytorch always runs PyTorch')
    parser.add_argument(
        '--onnx',
        metavar='FILE',
        help='an ONNX export of this model (fp32 or int8) to run with ONNX '
        'Runtime')
    parser.add_argument(
        '--threads',
        type=positive_int,
        default=None,
        help='CPU threads of the ONNX Runtime classifier (default: torch\'s; '
        'a video shares the cores between detector and classifier)')
    parser.add_argument(
        '--max-frames',
        type=positive_int,
        help='stop a video / camera after this many frames')
    parser.add_argument(
        '--show', action='store_true', help='show video frames in a window')
    parser.add_argument(
        '--no-timeline',
        action='store_true',
        help='video / camera: do not write timeline.csv and timeline.png')
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
    add_config_mismatch_argument(parser)
    add_debug_argument(parser)
    return parser.parse_args(argv)


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    warnings.simplefilter('ignore', ModelDomainWarning)  # printed as a note
    # NAME INPUT, or CONFIG CHECKPOINT INPUT; nothing: the names
    args.config, args.checkpoint, args.input = split_model_arguments(
        args.config, args.checkpoint, args.input)
    if not is_model_name(args.config):
        load_config(args.config)  # one clear line if missing
    check_checkpoint_file(args.checkpoint)
    source = check_source(args.input)  # before the model loads
    # a model name: its config and weights (downloaded once, then cached)
    config, checkpoint = resolve_model(args.config, args.checkpoint)
    backend = choose_backend(args.backend, args.onnx, args.device,
                             args.precision, args.show_heads)
    onnx_file = args.onnx if backend == 'onnxruntime' else None
    if args.onnx and onnx_file is None:
        print(f'note: --backend pytorch: {args.onnx} is not used')
    # A video on ONNX Runtime runs its stages side by side: they share the
    # cores (stage_threads) rather than each taking all of them.
    pipelined = source.is_video and backend == 'onnxruntime'
    threads = stage_threads() if pipelined else {}
    inferencer = FERInferencer(
        config,
        checkpoint,
        device=args.device,
        detector=args.detector,
        no_detect=args.no_detect,
        detector_threads=args.detector_threads or threads.get('detector'),
        crop=args.crop,
        margin=args.margin,
        deploy=args.deploy,
        channels_last=args.channels_last,
        precision=args.precision,
        backend=backend,
        onnx_file=onnx_file,
        num_threads=args.threads or threads.get('classifier'),
        allow_config_mismatch=args.allow_config_mismatch)
    if backend == 'onnxruntime':
        print(backend_line(inferencer, args.onnx is None, pipelined))
    predict_source(
        inferencer,
        source,
        args.out_dir,
        batch_size=args.batch_size,
        show_heads=args.show_heads,
        max_frames=args.max_frames,
        show=args.show,
        smooth=not args.no_smooth,
        detect_every=args.detect_every,
        pipelined=pipelined,
        timeline=not args.no_timeline)


def backend_line(inferencer: FERInferencer, cached: bool,
                 pipelined: bool) -> str:
    """One line saying what runs the model, e.g. ``ONNX Runtime (1 thread,
    the deploy model exported once to ...)``."""
    backend = inferencer.backend
    num = backend.num_threads
    what = f'{num} thread' + ('s' if num > 1 else '')
    if cached:
        verb = 'exported now to' if backend.exported else 'cached in'
        what += f', the deploy model {verb} {backend.onnx_file}'
    else:
        what += f', {backend.onnx_file}'
    loop = '; decode, detect and classify overlap' if pipelined else ''
    return (f'classifier: ONNX Runtime ({what}){loop}; --backend pytorch '
            'for PyTorch')


if __name__ == '__main__':
    main()
