"""The DAN reference code's checkpoint layout, read as dan_mm's.

The authors' code (github.com/yaoing/DAN, ``rafdb.py`` / ``affectnet.py``)
saves ``{'iter', 'model_state_dict', 'optimizer_state_dict'}`` with keys
``features.{0,1,4..7}.*`` (torchvision's ResNet-18 children),
``cat_head{i}.{sa,ca}.*``, ``fc.*`` and ``bn.*``; trained with
``nn.DataParallel`` the keys start with ``module.``. Every loader of dan_mm
(:func:`dan_mm.utils.checkpoint.load_from_local` and the URL loader)
converts such a file in memory with :func:`as_dan_mm_checkpoint`, so the
authors' files work as they are wherever a checkpoint is taken. The
affinity-loss centres are not in those files; they only matter in training.
"""
import re
from collections import OrderedDict
from typing import Any, Optional, Tuple

from .errors import CheckpointError

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
REFERENCE_PREFIXES = ('features.', 'cat_head', 'fc.', 'bn.')
DATA_PARALLEL_PREFIX = 'module.'


def _strip(key: str) -> str:
    return key[len(DATA_PARALLEL_PREFIX):] \
        if key.startswith(DATA_PARALLEL_PREFIX) else key


def convert_key(key: str) -> str:
    """Map one reference key to its dan_mm key.

    Args:
        key (str): A key of the reference ``model_state_dict`` (without
            ``module.``).

    Returns:
        str: The dan_mm key (``backbone.``, ``neck.heads.{i}.``, ``head.``).

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


def convert(state_dict: dict) -> Tuple[OrderedDict, int, int]:
    """Convert a reference ``model_state_dict`` (``module.`` or not).

    Args:
        state_dict (dict): The reference model's state dict.

    Returns:
        tuple[OrderedDict, int, int]: the dan_mm state dict, num_classes,
        num_heads.

    Raises:
        CheckpointError: A key the reference model does not have, or no
            ``fc.weight``.
    """
    converted = OrderedDict()
    for key, value in state_dict.items():
        converted[convert_key(_strip(key))] = value
    if 'head.fc.weight' not in converted:
        raise CheckpointError('no "fc.weight" in the reference checkpoint: is '
                              'it a DAN checkpoint?')
    num_classes = converted['head.fc.weight'].shape[0]
    num_heads = len(
        {k.split('.')[2]
         for k in converted if k.startswith('neck.heads.')})
    return converted, num_classes, num_heads


def _state_dict_keys(state_dict: Any) -> list:
    if not isinstance(state_dict, dict):
        return []
    return [_strip(k) for k in state_dict if isinstance(k, str)]


def is_dan_mm_checkpoint(checkpoint: Any) -> bool:
    """Whether a loaded checkpoint is dan_mm's (or mmpretrain's) own:
    ``state_dict`` (or the dict itself) with only backbone./neck./head.
    keys, and no reference ``model_state_dict``."""
    if not isinstance(checkpoint, dict) or 'model_state_dict' in checkpoint:
        return False
    keys = _state_dict_keys(checkpoint.get('state_dict', checkpoint))
    return bool(keys) and all(k.startswith(DAN_MM_PREFIXES) for k in keys)


def is_reference_checkpoint(checkpoint: Any) -> bool:
    """Whether a loaded checkpoint is in the DAN reference's layout.

    Args:
        checkpoint (Any): What :func:`torch.load` returned.

    Returns:
        bool: True for ``{'model_state_dict': ...}`` or a bare state dict
        whose keys are the reference DAN's (``features.``, ``cat_head``,
        ``fc.``, ``bn.``; ``module.`` or not) with a ``cat_head`` among them.
    """
    if not isinstance(checkpoint, dict):
        return False
    if isinstance(checkpoint.get('model_state_dict'), dict):
        return True
    keys = _state_dict_keys(checkpoint)
    return bool(keys) and any(k.startswith('cat_head') for k in keys) and \
        all(k.startswith(REFERENCE_PREFIXES) for k in keys)


def as_dan_mm_checkpoint(checkpoint: Any, name: Optional[str] = None) -> Any:
    """A reference-layout checkpoint converted in memory; others as they are.

    Args:
        checkpoint (Any): What :func:`torch.load` returned.
        name (str, optional): The file (or URL), for messages.

    Returns:
        Any: ``{'state_dict': ..., 'meta': {'converted_from': 'DAN
        reference', 'source', 'num_classes', 'num_heads', 'epoch'}}`` for a
        reference checkpoint, else ``checkpoint`` unchanged.

    Raises:
        CheckpointError: A reference-looking file with keys the reference
            DAN does not have (one line naming the file).
    """
    if not is_reference_checkpoint(checkpoint):
        return checkpoint
    state_dict = checkpoint.get('model_state_dict', checkpoint)
    try:
        converted, num_classes, num_heads = convert(state_dict)
    except CheckpointError as err:
        where = f'{name}: ' if name else ''
        raise CheckpointError(
            f'{where}{err}; neither a dan_mm checkpoint (backbone./neck./'
            'head. keys) nor a DAN reference one (features./cat_head*/fc./'
            'bn. keys)') from err
    meta = dict(
        converted_from='DAN reference',
        num_classes=num_classes,
        num_heads=num_heads,
        epoch=checkpoint.get('iter'))
    if name:
        meta['source'] = name
    return dict(state_dict=converted, meta=meta)
