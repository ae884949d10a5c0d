"""Checkpoints of the DAN reference code (github.com/yaoing/DAN) as dan_mm's.

The reference saves ``{'iter', 'model_state_dict', 'optimizer_state_dict'}``
with keys ``features.{0,1,4..7}.*`` (ResNet-18), ``cat_head{i}.{sa,ca}.*``,
``fc.*`` and ``bn.*``. The affinity centres are not saved there, so they stay
at their random init in the converted model (they only matter for training).
``tools/model_converters/dan_to_mmpretrain.py`` is the command line of
:func:`convert_reference_checkpoint`.
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Optional

import torch

from ..utils.checkpoint import load_checkpoint_file
from ..utils.cli import check_checkpoint_file, naming_checkpoint, report_logger
from ..utils.config import load_config
from ..utils.errors import CheckpointError, CheckpointMismatchError

# torchvision's ResNet children -> mmpretrain ResNet module names.
FEATURES = {
    '0': 'conv1',
    '1': 'bn1',
    '4': 'layer1',
    '5': 'layer2',
    '6': 'layer3',
    '7': 'layer4'
}
DAN_MM_PREFIXES = ('backbone.', 'neck.', 'head.')


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
            f'set cfg.model.head.num_classes={num_classes} '
            f'cfg.model.neck.num_heads={num_heads} when testing')


def is_dan_mm_checkpoint(checkpoint) -> bool:
    """Whether a loaded checkpoint is dan_mm's (or mmpretrain's) own:
    ``state_dict`` (or the dict itself) with only backbone./neck./head.
    keys, and no reference ``model_state_dict``."""
    if not isinstance(checkpoint, dict) or 'model_state_dict' in checkpoint:
        return False
    state_dict = checkpoint.get('state_dict', checkpoint)
    keys = [
        k[len('module.'):] if k.startswith('module.') else k
        for k in state_dict
    ] if isinstance(state_dict, dict) else []
    return bool(keys) and all(
        isinstance(k, str) and k.startswith(DAN_MM_PREFIXES) for k in keys)


def convert_reference_checkpoint(src: str,
                                 dst: str,
                                 config: Optional[str] = None) -> dict:
    """Convert the reference checkpoint ``src``, save it to ``dst`` and
    print what was converted.

    Args:
        src (str): The reference checkpoint.
        dst (str): The dan_mm checkpoint to write.
        config (str, optional): Refuse the checkpoint unless its
            num_classes / num_heads match this config.

    Returns:
        dict: The ``meta`` saved (``source``, ``num_classes``,
        ``num_heads``, ``epoch``).

    Raises:
        CheckpointError: ``src`` is missing, no reference checkpoint (e.g.
            already dan_mm's), or (with ``config``) of another shape.
    """
    check_checkpoint_file(src, 'the SRC argument')
    with naming_checkpoint(src):
        checkpoint = load_checkpoint_file(src, map_location='cpu')
    if is_dan_mm_checkpoint(checkpoint):
        raise CheckpointError(
            f"{src}: this file is already in dan_mm's format (a state_dict "
            'of backbone./neck./head. keys), nothing to convert: use it '
            f'directly (tools/test.py CONFIG {src}, tools/infer.py, or '
            'load_from)')
    state_dict = checkpoint.get('model_state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict):
        raise CheckpointError(f'{src} holds no state dict')
    try:
        converted, num_classes, num_heads = convert(state_dict)
    except CheckpointError as e:
        raise CheckpointError(f'{src}: {e}') from e
    if config:
        check_config(config, num_classes, num_heads)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    meta = dict(
        source=osp.basename(src),
        num_classes=num_classes,
        num_heads=num_heads,
        epoch=checkpoint.get('iter'))
    torch.save({'meta': meta, 'state_dict': converted}, dst)
    log = report_logger()
    log.info(f'Converted {len(converted)} tensors (num_classes={num_classes}, '
             f'num_heads={num_heads}) to {dst}')
    log.info('Note: the reference does not save the affinity-loss centres; '
             '"head.affinity_loss.centers" stays at its random init (it is '
             'only used in training, so test results are unaffected).')
    return meta
