"""Write a SynthFER split in FERPlus's or AffectNet's layout.

For trying cross-dataset evaluation (docs/datasets.md) without a licensed
data set: labels follow the target's classes by name, and ``--contempt N``
adds N images of a class RAF-DB lacks. Both splits may go to one folder
(``--split train`` then ``--split test``); a split already there is refused
unless ``--overwrite``.

Example:
    python tools/dataset_converters/export_synthfer.py data/synthfer \
        data/synthfer_ferplus --layout ferplus --contempt 50
"""
import argparse

from dan_mm.synthfer import export_synthfer
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              exit_on_user_error)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Write a SynthFER split in another data set\'s layout',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('root', help='SynthFER folder (RAF-DB layout)')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument(
        '--layout', choices=['ferplus', 'affectnet'], required=True)
    parser.add_argument(
        '--split',
        choices=['train', 'test'],
        default='test',
        help='SynthFER split to export (default: test)')
    parser.add_argument(
        '--contempt',
        type=int,
        default=0,
        help='extra images labelled Contempt (default: 0)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace this split if OUT_DIR has it (the other split stays)')
    add_debug_argument(parser)
    return parser.parse_args()


@exit_on_user_error
def main():
    args = parse_args()
    path = export_synthfer(args.root, args.out_dir, args.layout, args.split,
                           args.contempt, args.seed, args.overwrite)
    print(f'wrote {path}')


if __name__ == '__main__':
    main()
