"""Save DAN's per-head spatial attention maps over the faces of an image.

One row per face, K + 1 panels: the face crop, then the crop overlaid with
each head's attention map upsampled from the backbone's resolution (the
paper's Figure 1).

Exit status: 0 on success, 1 on an error (one ``error:`` line), 2 when no
face is found (as ``tools/infer.py``).

Examples (a model name runs the DAN authors' model, downloaded once):
    python tools/visualize_attention.py dan_r18_3rdparty_rafdb photo.jpg \
        --out work_dirs/attention.png
    python tools/visualize_attention.py configs/dan_r18_rafdb.py dan.pth \
        photo.jpg --out work_dirs/attention.png
"""
import argparse
import os
import os.path as osp
import warnings
from typing import Optional, Sequence

# Arguments and files are checked before torch and MMPretrain load (~3 s):
# dan_mm defers them to the first import beyond dan_mm.utils.cli.
DAN_MM_DEFER_IMPORTS = True
from dan_mm.utils.cli import (DETECTOR_NAMES, DefaultsHelpFormatter,
                              add_config_mismatch_argument, add_debug_argument,
                              add_precision_argument,
                              add_trust_checkpoint_argument,
                              check_checkpoint_file, check_files_exist,
                              exit_on_user_error, print_note)
from dan_mm.utils.errors import InputError, InputNotFoundError


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description="Visualise the spatial attention of DAN's heads",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument(
        'config',
        nargs='?',
        help='model name (e.g. dan_r18_3rdparty_rafdb) or model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file or URL (left out after a model name)')
    parser.add_argument('image', nargs='?', help='image file')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--no-detect',
        action='store_true',
        help='the image is an aligned face crop')
    parser.add_argument(
        '--detector',
        choices=list(DETECTOR_NAMES),
        default=None,
        help='face detector (default: the config\'s face_detector, else '
        'retinaface)')
    parser.add_argument(
        '--crop',
        choices=['box', 'aligned'],
        default=None,
        help='how faces are cut (default: the config\'s face_crop)')
    parser.add_argument(
        '--margin', type=float, default=None, help='box crop margin')
    parser.add_argument(
        '--panel-size',
        type=int,
        default=160,
        help='side of each panel in pixels')
    parser.add_argument(
        '--device',
        default=None,
        help='e.g. cpu, cuda:0 (default: cuda if '
        'available)')
    add_trust_checkpoint_argument(parser)
    add_config_mismatch_argument(parser)
    add_precision_argument(parser)
    add_debug_argument(parser)
    return parser.parse_args(argv)


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.image is not None and args.config.endswith('.py'):
        # CONFIG CHECKPOINT IMAGE: missing files answer before torch loads
        check_files_exist(args.config, args.checkpoint)
    from dan_mm.runtime import resolve_model
    from dan_mm.utils.config import load_config
    from dan_mm.zoo import is_model_name, split_model_arguments

    # NAME IMAGE, or CONFIG CHECKPOINT IMAGE
    args.config, args.checkpoint, args.image = split_model_arguments(
        args.config, args.checkpoint, args.image, 'IMAGE')
    if not is_model_name(args.config):
        load_config(args.config)  # one clear line if it cannot be read
    check_checkpoint_file(args.checkpoint)
    if osp.isdir(args.image):
        raise InputError(
            f'{args.image} is a folder: give one image (for the attention '
            'panels of every image of a folder: tools/infer.py FOLDER '
            '--show-heads)')
    if not osp.isfile(args.image):
        raise InputNotFoundError(f'image not found: {args.image}')
    import mmcv

    from dan_mm.inference import FERInferencer, ModelDomainWarning
    from dan_mm.utils.errors import NoFaceFoundError
    from dan_mm.utils.image_io import decode_image
    from dan_mm.visualization import draw_attention_panels
    warnings.simplefilter('ignore', ModelDomainWarning)  # printed as a note
    img = decode_image(args.image)  # the inferencer's decoder
    # a model name: its config and weights (downloaded once, then cached)
    config, checkpoint = resolve_model(args.config, args.checkpoint)
    inferencer = FERInferencer(
        config,
        checkpoint,
        device=args.device,
        detector=args.detector,
        no_detect=args.no_detect,
        crop=args.crop,
        margin=args.margin,
        precision=args.precision,
        allow_config_mismatch=args.allow_config_mismatch)
    result = inferencer(img, return_maps=True)[0]
    if not result['faces']:
        print_note(inferencer.model_notice)
        raise NoFaceFoundError(f'no face found in {args.image} (for an '
                               'aligned face crop use --no-detect)')
    panels = draw_attention_panels(img, result['faces'], args.panel_size)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    mmcv.imwrite(panels, args.out)
    num_heads = len(result['faces'][0]['attention_maps'])
    num_faces = len(result['faces'])
    print(f'{num_faces} face{"s" if num_faces > 1 else ""}, {num_heads} '
          f'heads: {args.out}')
    print_note(inferencer.model_notice)  # as tools/infer.py


if __name__ == '__main__':
    main()
