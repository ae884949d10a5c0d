"""Convert a DAN checkpoint to its deploy (fused attention heads) form.

As mmpretrain's ``tools/model_converters/reparameterize_model.py``: the
model is built from CONFIG, loaded from CKPT, ``switch_to_deploy()`` fuses
each head's conv+BN branches into one 3x3 conv, its 1x1 conv+BN into one conv,
the K heads into grouped layers, and the state dict is saved to OUT.
Load OUT with ``--cfg-options model.neck.deploy=True`` (or that line in a
config); tools/test.py, tools/infer.py and the inferencer accept it.

Example:
    python tools/model_converters/reparameterize_model.py \
        configs/dan_r18_rafdb.py dan_r18_rafdb.pth dan_r18_rafdb_deploy.pth
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import DictAction
from mmpretrain.apis import get_model

import dan_mm  # noqa: F401  (registers DAN; torch>=2.6 checkpoint loading)
from dan_mm.utils.checkpoint import load_checkpoint_file
from dan_mm.utils.errors import ConfigError
from dan_mm.utils.tool_utils import (add_debug_argument,
                                     add_trust_checkpoint_argument,
                                     check_checkpoint_file, exit_on_user_error,
                                     load_config, naming_checkpoint,
                                     naming_config_keys)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Fuse the attention heads of a DAN checkpoint for '
        'deployment')
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
    check_checkpoint_file(args.checkpoint, 'the CHECKPOINT argument')
    if cfg.model.neck.get('deploy', False):
        raise ConfigError(f'{args.config} already builds model.neck.deploy='
                          'True; give the training-form config')
    with naming_config_keys(cfg), naming_checkpoint(args.checkpoint):
        model = get_model(cfg, pretrained=args.checkpoint, device='cpu')
        if not hasattr(model, 'switch_to_deploy'):
            raise ConfigError(f'model.type: {type(model).__name__} has no '
                              'switch_to_deploy(); use model type "DAN"')
        model.switch_to_deploy()
        checkpoint = load_checkpoint_file(args.checkpoint, map_location='cpu')
    meta = dict(checkpoint.get('meta') or {}, deploy=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save({'meta': meta, 'state_dict': model.state_dict()}, args.out)
    print(f'Saved the deploy checkpoint to {args.out}; load it with '
          '--cfg-options model.neck.deploy=True')


if __name__ == '__main__':
    main()
