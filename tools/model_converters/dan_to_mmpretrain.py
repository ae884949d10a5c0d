"""Convert a checkpoint of the DAN reference code into a dan_mm checkpoint.

The reference saves ``{'iter', 'model_state_dict', 'optimizer_state_dict'}``
with keys ``features.{0,1,4..7}.*`` (ResNet-18), ``cat_head{i}.{sa,ca}.*``,
``fc.*`` and ``bn.*``. The affinity centres are not saved there, so they stay
at their random init in the converted model (they only matter for training).

Example:
    python tools/model_converters/dan_to_mmpretrain.py \
        rafdb_epoch21_acc0.897_bacc0.8275.pth checkpoints/dan_r18_rafdb.pth \
        --config configs/dan_r18_rafdb.py
"""
import argparse
import os
import os.path as osp
import re
from collections import OrderedDict

import torch

from dan_mm.utils.checkpoint import load_checkpoint_file
from dan_mm.utils.errors import CheckpointError, CheckpointMismatchError
from dan_mm.utils.tool_utils import (add_debug_argument,
                                     add_trust_checkpoint_argument,
                                     check_checkpoint_file, exit_on_user_error,
                                     load_config, naming_checkpoint)

# torchvision's ResNet children -> mmpretrain ResNet module names.
FEATURES = {
    '0': 'conv1',
    '1': 'bn1',
    '4': 'layer1',
    '5': 'layer2',
    '6': 'layer3',
    '7': 'layer4'
}


def convert_key(key: str) -> str:
    """Map one reference key to its dan_mm key.

    Raises:
        CheckpointError: A key the reference model does not have.
    """
    match = re.match(r'features\.(\d+)\.(.*)', key)
    if match and match.group(1) in FEATURES:
        return f'backbone.{FEATURES[match.group(1)]}.{match.group(2)}'
    match = re.match(r'cat_head(\d+)\.(.*)', key)
    if match:
        return f'neck.heads.{match.group(1)}.{match.group(2)}'
    if key.startswith(('fc.', 'bn.')):
        return f'head.{key}'
    raise CheckpointError(
        f'unexpected key in the reference checkpoint: "{key}"')


def convert(state_dict: dict):
    """Convert a reference ``model_state_dict``.

    Returns:
        tuple[OrderedDict, int, int]: the dan_mm state dict, num_classes,
        num_heads.
    """
    converted = OrderedDict()
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        converted[convert_key(key)] = value
    if 'head.fc.weight' not in converted:
        raise CheckpointError('no "fc.weight" in the reference checkpoint: is '
                              'it a DAN checkpoint?')
    num_classes = converted['head.fc.weight'].shape[0]
    num_heads = len(
        {k.split('.')[2]
         for k in converted if k.startswith('neck.heads.')})
    return converted, num_classes, num_heads


def check_config(config: str, num_classes: int, num_heads: int) -> None:
    """Refuse a checkpoint whose shape disagrees with ``config``.

    Raises:
        CheckpointMismatchError: Another num_classes or num_heads.
    """
    cfg = load_config(config)
    want = (cfg.model.head.num_classes, cfg.model.neck.get('num_heads', 4))
    if want != (num_classes, num_heads):
        raise CheckpointMismatchError(
            f'the checkpoint has num_classes={num_classes}, '
            f'num_heads={num_heads} but {config} builds num_classes='
            f'{want[0]}, num_heads={want[1]}; pick the matching config or '
            f'pass --cfg-options model.head.num_classes={num_classes} '
            f'model.neck.num_heads={num_heads} when testing')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a DAN reference checkpoint to dan_mm')
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
    check_checkpoint_file(args.src, 'the SRC argument')
    with naming_checkpoint(args.src):
        checkpoint = load_checkpoint_file(args.src, map_location='cpu')
    state_dict = checkpoint.get('model_state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict):
        raise CheckpointError(f'{args.src} holds no state dict')
    try:
        converted, num_classes, num_heads = convert(state_dict)
    except CheckpointError as e:
        raise CheckpointError(f'{args.src}: {e}') from e
    if args.config:
        check_config(args.config, num_classes, num_heads)
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    meta = dict(
        source=osp.basename(args.src),
        num_classes=num_classes,
        num_heads=num_heads,
        epoch=checkpoint.get('iter'))
    torch.save({'meta': meta, 'state_dict': converted}, args.dst)
    print(f'Converted {len(converted)} tensors (num_classes={num_classes}, '
          f'num_heads={num_heads}) to {args.dst}')
    print('Note: the reference does not save the affinity-loss centres; '
          '"head.affinity_loss.centers" stays at its random init (it is only '
          'used in training, so test results are unaffected).')


if __name__ == '__main__':
    main()
