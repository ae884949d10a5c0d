"""Write the built-in SynthFER data set (RAF-DB layout) to a folder.

Example:
    python tools/dataset_converters/generate_synthfer.py data/synthfer
"""
import argparse
import os.path as osp

from dan_mm.synthfer import generate_synthfer
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              exit_on_user_error)
from dan_mm.utils.errors import ConfigError


def parse_args():
    parser = argparse.ArgumentParser(
        description='Generate SynthFER, procedurally drawn expression faces '
        'in RAF-DB\'s on-disk layout',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument(
        'out_dir',
        nargs='?',
        default='data/synthfer',
        help='output folder (default: data/synthfer)')
    parser.add_argument('--num-train', type=int, default=2800)
    parser.add_argument('--num-test', type=int, default=700)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--size',
        type=int,
        default=100,
        help='image side length (RAF-DB aligned: 100)')
    parser.add_argument(
        '--overwrite',
        '--force',
        action='store_true',
        help='delete an earlier SynthFER set in the folder, then write')
    parser.add_argument(
        '--older-share',
        type=float,
        default=0.0,
        metavar='P',
        help='draw this share of the faces older (grey hair, lines), for '
        'the per-group report; 0 (default) leaves every image as without '
        'the option')
    add_debug_argument(parser)
    return parser.parse_args()


@exit_on_user_error
def main():
    args = parse_args()
    if not 0 <= args.older_share <= 1:
        raise ConfigError(f'--older-share {args.older_share}: give a share '
                          'from 0 to 1')
    ann_file = osp.join(args.out_dir, 'EmoLabel', 'list_patition_label.txt')
    if osp.isfile(ann_file) and not args.overwrite:
        print(f'{ann_file} exists, keeping it (use --overwrite to regenerate)')
        return
    generate_synthfer(
        args.out_dir,
        args.num_train,
        args.num_test,
        args.seed,
        args.size,
        overwrite=args.overwrite,
        older_share=args.older_share)
    print(f'wrote {args.num_train} train + {args.num_test} test images, '
          f'{ann_file} and their attributes (Annotation/manual)')


if __name__ == '__main__':
    main()
