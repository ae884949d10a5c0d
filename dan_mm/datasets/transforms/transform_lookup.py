"""mmpretrain's tools find a pipeline's image loader by its class name.

``mmpretrain.datasets.get_transform_idx(pipeline, 'LoadImageFromFile')``
compares names only, so :class:`~dan_mm.datasets.transforms.LoadFaceImage`
(a subclass of mmcv's ``LoadImageFromFile``, and a drop-in replacement for
it) is not found: ``tools/misc/verify_dataset.py`` then refuses every dan_mm
config, and mmpretrain's inferencers keep the loader they mean to remove.
:func:`install` makes the lookup also match registered subclasses of the
named transform, which is what the name stands for. Exact name matches are
found first, as before, so pipelines without a subclass are unaffected.
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


def install() -> None:
    """Make mmpretrain's ``get_transform_idx`` (and ``remove_transform``,
    which calls it) use :func:`get_transform_idx`. Idempotent."""
    import mmpretrain.datasets as datasets
    import mmpretrain.datasets.transforms as transforms
    import mmpretrain.datasets.transforms.utils as utils
    for module in (datasets, transforms, utils):
        module.get_transform_idx = get_transform_idx


def _original():
    import mmpretrain.datasets.transforms.utils as utils
    lookup = utils.get_transform_idx
    return getattr(lookup, '__wrapped_name_lookup__', lookup)


# mmpretrain's own name-only lookup, kept before install() replaces it.
_name_lookup = _original()
get_transform_idx.__wrapped_name_lookup__ = _name_lookup
