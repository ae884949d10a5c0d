"""Convert a checkpoint of the DAN reference code into a dan_mm checkpoint.

Everything after parsing is
:func:`dan_mm.deployment.reference_checkpoint.convert_reference_checkpoint`.

Example:
    python tools/model_converters/dan_to_mmpretrain.py \
        rafdb_epoch21_acc0.897_bacc0.8275.pth checkpoints/dan_r18_rafdb.pth \
        --config configs/dan_r18_rafdb.py
"""
import argparse

from dan_mm.deployment.reference_checkpoint import convert_reference_checkpoint
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              add_trust_checkpoint_argument,
                              exit_on_user_error)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a DAN reference checkpoint to dan_mm',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('src', help='reference checkpoint (.pth)')
    parser.add_argument('dst', help='output dan_mm checkpoint (.pth)')
    parser.add_argument(
        '--config',
        help='refuse the checkpoint unless its '
        'num_classes / num_heads match this config')
    add_debug_argument(parser)
    add_trust_checkpoint_argument(parser)
    return parser.parse_args()


@exit_on_user_error
def main():
    args = parse_args()
    convert_reference_checkpoint(args.src, args.dst, args.config)


if __name__ == '__main__':
    main()
