"""mmpretrain's tools find a pipeline's image loader by its class name.

``mmpretrain.datasets.get_transform_idx(pipeline, 'LoadImageFromFile')``
compares names only, so :class:`~dan_mm.datasets.transforms.LoadFaceImage`
(a subclass of mmcv's ``LoadImageFromFile``, and a drop-in replacement for
it) is not found: ``tools/misc/verify_dataset.py`` then refuses every dan_mm
config, and mmpretrain's inferencers keep the loader they mean to remove.
:func:`get_transform_idx` also matches registered subclasses of the named
transform, which is what the name stands for. Exact name matches are found
first, as before, so pipelines without a subclass are unaffected. Importing
:mod:`dan_mm` makes mmpretrain use it
(:func:`dan_mm.compat.match_transform_subclasses`).
"""
from typing import Optional

from mmpretrain.registry import TRANSFORMS


def _transform_class(transform) -> Optional[type]:
    """The class of a pipeline step (a config dict or a built transform)."""
    if not isinstance(transform, dict):
        return type(transform)
    kind = transform.get('type')
    if isinstance(kind, type):
        return kind
    return TRANSFORMS.get(kind) if isinstance(kind, str) else None


def _name_lookup(pipeline, target: str) -> int:
    """mmpretrain 1.2.0's lookup: the first step named ``target``."""
    for index, transform in enumerate(pipeline):
        kind = transform['type'] if isinstance(transform,
                                               dict) else type(transform)
        if (kind.__name__ if isinstance(kind, type) else kind) == target:
            return index
    return -1


def get_transform_idx(pipeline, target: str) -> int:
    """The index of the first step that is ``target`` by name or a subclass
    of the registered ``target`` class; -1 when there is none.

    Args:
        pipeline (list[dict | BaseTransform]): The transforms.
        target (str): A registered transform's class name, e.g.
            ``'LoadImageFromFile'``.

    Returns:
        int: The step's index, or -1.
    """
    index = _name_lookup(pipeline, target)
    if index >= 0:
        return index
    target_class = TRANSFORMS.get(target)
    if target_class is None:
        return -1
    for index, transform in enumerate(pipeline):
        cls = _transform_class(transform)
        if isinstance(cls, type) and issubclass(cls, target_class):
            return index
    return -1
