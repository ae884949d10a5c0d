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
expression over time (``--no-timeline``: not). Names never collide: ``a.jpg``
and ``a.png`` give ``a_jpg.png`` and ``a_png.png``
(:func:`~dan_mm.inference.image_inputs.collect_inputs`). A folder's
subfolders are read with ``--recursive`` (outputs keep the relative path),
else skipped and counted in the summary.

Every source on the CPU in fp32 runs the fastest path with the same results
by itself (:func:`dan_mm.runtime.choose_backend`): the deploy model exported
to ONNX once (cached by the checkpoint's hash under ``~/.cache/dan_mm/onnx``,
``$DAN_MM_ONNX_CACHE``; the 4 most recently used are kept,
``$DAN_MM_ONNX_CACHE_KEEP``; ``--clear-onnx-cache`` empties it) and run by
ONNX Runtime; a video or camera runs in a
loop whose decoding, detection and classification overlap on the cores.
``--onnx FILE`` runs a given export (e.g. an int8 one from
``tools/deployment/quantize_onnx.py``) on any input; ``--backend pytorch``
always runs PyTorch. Attention maps (``--show-heads``) are PyTorch's, and
PyTorch then classifies too (one pass).

Exit status: 0 on success; 1 when the input (or a file of a folder) cannot
be read, a video or camera cannot be opened, ``--out-dir`` cannot be
written or ``--show`` has no display (one ``error:`` line, before the model
loads where it can be known then; ``--debug`` for the traceback); 2 when no
face is found at all.

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
from typing import TYPE_CHECKING, Optional, Sequence

# Arguments and files are checked before torch and MMPretrain load (~3 s):
# dan_mm defers them to the first import beyond dan_mm.utils.cli.
DAN_MM_DEFER_IMPORTS = True
from dan_mm.utils.cli import (DETECTOR_NAMES, DefaultsHelpFormatter,
                              add_config_mismatch_argument, add_debug_argument,
                              add_precision_argument,
                              add_trust_checkpoint_argument,
                              check_checkpoint_file, check_files_exist,
                              exit_on_user_error)

if TYPE_CHECKING:
    from dan_mm.inference import FERInferencer


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='DAN facial expression recognition on images, folders, '
        'videos or a camera',
        formatter_class=DefaultsHelpFormatter)
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
    parser.add_argument(
        '--out-dir',
        default='work_dirs/infer',
        help='where the annotated images or video, predictions.jsonl and '
        'the timeline go (created if needed)')
    parser.add_argument(
        '--recursive',
        action='store_true',
        help='a folder: also read its subfolders (output names keep the '
        'relative path); without it they are skipped and counted')
    parser.add_argument(
        '--show-heads', action='store_true', help='save attention maps')
    parser.add_argument(
        '--detector',
        choices=list(DETECTOR_NAMES),
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
        '--show',
        action='store_true',
        help='show video frames in a window (needs a display)')
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
    parser.add_argument(
        '--clear-onnx-cache',
        nargs=0,
        action=ClearOnnxCache,
        help='delete the cached ONNX exports (made again when needed) and '
        'exit')
    parser.add_argument(
        '--min-confidence',
        type=probability,
        default=None,
        metavar='P',
        help='mark a face whose top probability (calibrated, when the model '
        'has a temperature) is below P as uncertain: "uncertain": true in '
        'predictions.jsonl and the timeline, "?" on the picture (default: '
        'none is marked)')
    parser.add_argument(
        '--temperature',
        type=float,
        default=None,
        help='divide the logits by this before the softmax (default: the '
        'temperature the checkpoint or --onnx file carries, from '
        'tools/analysis_tools/calibrate.py; 1 turns it off)')
    add_trust_checkpoint_argument(parser)
    add_config_mismatch_argument(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.temperature is not None and not args.temperature > 0:
        parser.error(f'--temperature {args.temperature}: must be > 0')
    return args


def probability(text: str) -> float:
    """An argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = float('nan')
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f'{text} is not a probability from 0 to 1')
    return value


class ClearOnnxCache(argparse.Action):
    """``--clear-onnx-cache``: empty the cache and exit, as ``--help``
    does, without the other arguments."""

    def __call__(self, parser, namespace, values, option_string=None):
        from dan_mm.utils.onnx_cache import clear_onnx_cache, onnx_cache_dir
        files, size = clear_onnx_cache()
        print(f'removed {files} ONNX export(s), {size / 2**20:.0f} MB, from '
              f'{onnx_cache_dir()}')
        parser.exit(0)


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.input is not None and args.config.endswith('.py'):
        # CONFIG CHECKPOINT INPUT: missing files answer before torch loads
        check_files_exist(
            args.config, args.checkpoint, [args.input], camera=True)
    from dan_mm.apis import check_source, predict_source
    from dan_mm.inference import FERInferencer, ModelDomainWarning
    from dan_mm.runtime import choose_backend, resolve_model
    from dan_mm.utils.config import load_config
    from dan_mm.utils.output_dir import make_output_dir
    from dan_mm.video import check_display, stage_threads
    from dan_mm.zoo import is_model_name, split_model_arguments
    warnings.simplefilter('ignore', ModelDomainWarning)  # printed as a note
    # NAME INPUT, or CONFIG CHECKPOINT INPUT; nothing: the names
    args.config, args.checkpoint, args.input = split_model_arguments(
        args.config, args.checkpoint, args.input)
    if not is_model_name(args.config):
        load_config(args.config)  # one clear line if it cannot be read
    check_checkpoint_file(args.checkpoint)
    source = check_source(args.input)  # before the model loads
    if args.show and source.is_video:
        check_display('--show')  # Qt would abort the process later
    make_output_dir(args.out_dir, '--out-dir')
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
        temperature=args.temperature,
        min_confidence=args.min_confidence,
        allow_config_mismatch=args.allow_config_mismatch)
    if inferencer.calibration_note:
        print(f'note: {inferencer.calibration_note}')
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
        recursive=args.recursive,
        timeline=not args.no_timeline)


def backend_line(inferencer: 'FERInferencer', cached: bool,
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
