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
import sys

import torch
from mmengine.config import DictAction
from mmpretrain.apis import get_model

import dan_mm  # noqa: F401  (registers DAN; torch>=2.6 checkpoint loading)
from dan_mm.utils.checkpoint import load_checkpoint_file
from dan_mm.utils.tool_utils import add_trust_checkpoint_argument, load_config


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
    add_trust_checkpoint_argument(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'error: checkpoint not found: {args.checkpoint}')
    if cfg.model.neck.get('deploy', False):
        sys.exit(f'error: {args.config} already builds model.neck.deploy='
                 'True; give the training-form config')
    model = get_model(cfg, pretrained=args.checkpoint, device='cpu')
    if not hasattr(model, 'switch_to_deploy'):
        sys.exit(f'error: {type(model).__name__} has no switch_to_deploy(); '
                 'use model type "DAN"')
    model.switch_to_deploy()
    checkpoint = load_checkpoint_file(args.checkpoint, map_location='cpu')
    meta = dict(checkpoint.get('meta') or {}, deploy=True)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save({'meta': meta, 'state_dict': model.state_dict()}, args.out)
    print(f'Saved the deploy checkpoint to {args.out}; load it with '
          '--cfg-options model.neck.deploy=True')


if __name__ == '__main__':
    main()
