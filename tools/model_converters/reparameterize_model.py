"""Convert a DAN checkpoint to its deploy (fused attention heads) form.

As mmpretrain's ``tools/model_converters/reparameterize_model.py``;
everything after parsing is
:func:`dan_mm.deployment.reparameterize_checkpoint`.
Load OUT with ``--cfg-options model.neck.deploy=True`` (or that line in a
config); tools/test.py, tools/infer.py and the inferencer accept it.

Example:
    python tools/model_converters/reparameterize_model.py \
        configs/dan_r18_rafdb.py dan_r18_rafdb.pth dan_r18_rafdb_deploy.pth
"""
import argparse

from mmengine.config import DictAction

from dan_mm.deployment import reparameterize_checkpoint
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              add_trust_checkpoint_argument,
                              exit_on_user_error)
from dan_mm.utils.config import load_config


def parse_args():
    parser = argparse.ArgumentParser(
        description='Fuse the attention heads of a DAN checkpoint for '
        'deployment',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='config of the (training-form) model')
    parser.add_argument('checkpoint', help='checkpoint to convert')
    parser.add_argument('out', help='deploy checkpoint to write (.pth)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    add_debug_argument(parser)
    add_trust_checkpoint_argument(parser)
    return parser.parse_args()


@exit_on_user_error
def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    reparameterize_checkpoint(cfg, args.checkpoint, args.out, args.config)
    print(f'Saved the deploy checkpoint to {args.out}; load it with '
          '--cfg-options model.neck.deploy=True')


if __name__ == '__main__':
    main()
