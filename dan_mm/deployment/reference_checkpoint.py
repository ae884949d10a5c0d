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
from typing import Optional

import torch

from ..utils.checkpoint import load_checkpoint_file
from ..utils.cli import check_checkpoint_file, naming_checkpoint, report_logger
from ..utils.config import load_config
from ..utils.errors import CheckpointError, CheckpointMismatchError
# The key conversion lives with the loader, which converts the authors'
# files in memory wherever a checkpoint is taken.
from ..utils.reference_layout import (DAN_MM_PREFIXES, FEATURES, convert,
                                      convert_key, is_dan_mm_checkpoint)

__all__ = [
    'FEATURES', 'DAN_MM_PREFIXES', 'convert', 'convert_key',
    'is_dan_mm_checkpoint', 'check_config', 'convert_reference_checkpoint'
]


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
