"""Draw the README's "Real photos" picture: a group made of the real photo
matplotlib ships, with boxes, five landmarks, the crops the model sees
(aligned for --crop aligned or a config that asks for it) and its labels.

Example (the picture in the README):
    CKPT=$(cat work_dirs/dan_r18_synthfer/last_checkpoint)
    python tools/analysis_tools/real_photos_figure.py \\
        configs/dan_r18_synthfer.py $CKPT --crop aligned
"""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from PIL import Image

from dan_mm.inference import FERInferencer
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              check_checkpoint_file, exit_on_user_error)
from dan_mm.utils.config import load_config
from dan_mm.visualization.real_photos import real_photos_figure


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', default='docs/images/real_photos.png')
    parser.add_argument(
        '--crop',
        choices=['box', 'aligned'],
        default=None,
        help='how faces are cut (default: the config\'s face_crop)')
    parser.add_argument('--device', default='cpu')
    add_debug_argument(parser)
    return parser.parse_args(argv)


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    load_config(args.config)
    check_checkpoint_file(args.checkpoint)
    inferencer = FERInferencer(
        args.config, args.checkpoint, device=args.device, crop=args.crop)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    figure = real_photos_figure(inferencer)
    # 256 colours: a photo as a small PNG for the README
    Image.fromarray(figure[..., ::-1]).quantize(256).save(
        args.out, optimize=True)
    print(f'{args.out}: {osp.getsize(args.out) / 1024:.0f} KB')


if __name__ == '__main__':
    main()
