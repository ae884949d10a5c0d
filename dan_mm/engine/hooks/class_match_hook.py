"""Start from a model whose classes differ from the data set's (another
order, some missing, some new): its head's rows follow the classes by name."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmpretrain.registry import HOOKS

from dan_mm.datasets.categories import match_classes_by_name
from dan_mm.utils.errors import CheckpointError

# Parameters and buffers with one row per class.
HEAD_PREFIX = 'head.'


def remap_class_rows(state_dict: Dict[str, torch.Tensor],
                     model_state: Dict[str, torch.Tensor],
                     checkpoint_classes: Sequence[str],
                     data_classes: Sequence[str]) -> Dict[str, list]:
    """Reorder the class rows of a checkpoint's head for another class list.

    Every ``head.*`` tensor with one row per checkpoint class (the AFN's
    ``fc`` and ``bn``, the affinity centres) becomes a tensor with one row
    per data class: the checkpoint's row for a class both have (matched by
    expression name, :func:`~dan_mm.datasets.categories.
    match_classes_by_name`), the model's fresh row for a new class.

    Args:
        state_dict (dict): The checkpoint's state dict; changed in place.
        model_state (dict): The model's own (freshly built) state dict,
            with ``len(data_classes)`` rows.
        checkpoint_classes (Sequence[str]): The checkpoint's classes.
        data_classes (Sequence[str]): The data set's classes.

    Returns:
        dict: ``kept`` (``(data class, checkpoint class)`` pairs), ``new``
        (data classes started afresh), ``dropped`` (checkpoint classes the
        data lacks) and ``keys`` (the tensors remapped).
    """
    match = match_classes_by_name(checkpoint_classes, data_classes)
    n_ckpt = len(checkpoint_classes)
    keys = []
    for key, value in list(state_dict.items()):
        target = model_state.get(key)
        if (not key.startswith(HEAD_PREFIX) or target is None
                or value.ndim == 0 or value.shape[0] != n_ckpt
                or value.shape[1:] != target.shape[1:]):
            continue
        rows = target.detach().clone().to(value.dtype)
        for data_index, ckpt_index in match.pairs:
            rows[data_index] = value[ckpt_index]
        state_dict[key] = rows
        keys.append(key)
    return dict(
        kept=[(data_classes[d], checkpoint_classes[c])
              for d, c in match.pairs],
        new=list(match.data_left_out),
        dropped=list(match.model_left_out),
        keys=keys)


def checkpoint_classes(checkpoint: dict) -> Optional[List[str]]:
    """The classes a checkpoint's model predicts (``meta.dataset_meta``,
    which mmengine writes when it trains), or None."""
    meta = checkpoint.get('meta') or {}
    classes = (meta.get('dataset_meta') or {}).get('classes')
    return list(classes) if classes else None


@HOOKS.register_module()
class ClassMatchHook(Hook):
    """Match a ``load_from`` checkpoint's classes to the training data's.

    When mmengine loads ``load_from`` (``after_load_checkpoint``, before the
    weights go into the model), the head's class rows are reordered to the
    classes of the data set being run (training's; in a test run,
    testing's) by expression name (``happy`` is the checkpoint's
    ``Happiness``): rows of classes both have are kept, new classes start
    from the model's initialisation, classes the data lacks are dropped.
    One log line says which. A checkpoint with the data's classes in the
    data's order passes unchanged (resuming).

    Args:
        require_classes (bool): Refuse a checkpoint that does not name its
            classes (``meta['dataset_meta']['classes']``) when its head's
            size differs from the data's. Defaults to True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, require_classes: bool = True) -> None:
        self.require_classes = require_classes
        self.report: Optional[dict] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Remap the head rows of ``checkpoint['state_dict']`` in place."""
        # The data set of the loop being run (training, or testing a model
        # on a folder); an unbuilt loop must not be built here.
        loop = next(
            (loop
             for loop in (runner._train_loop, runner._test_loop,
                          runner._val_loop) if isinstance(loop, BaseLoop)),
            None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        data_classes = (getattr(dataset, 'metainfo', None)
                        or {}).get('classes')
        if not data_classes:
            return
        state_dict = checkpoint.get('state_dict', checkpoint)
        data_classes = list(data_classes)
        ckpt_classes = checkpoint_classes(checkpoint)
        if ckpt_classes is None:
            rows = state_dict.get('head.fc.weight')
            if (self.require_classes and rows is not None
                    and rows.shape[0] != len(data_classes)):
                raise CheckpointError(
                    f'{runner.cfg.get("load_from")}: the checkpoint does not '
                    f'name its {rows.shape[0]} classes '
                    "(meta['dataset_meta']['classes']), so they cannot be "
                    f'matched to the data set\'s {len(data_classes)}: start '
                    'from a checkpoint saved by tools/train.py')
            return
        if ckpt_classes == data_classes:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self.report = remap_class_rows(state_dict, model.state_dict(),
                                       ckpt_classes, data_classes)
        checkpoint.setdefault('meta',
                              {}).setdefault('dataset_meta',
                                             {})['classes'] = data_classes
        kept = ', '.join(f'{d}={c}' if d != c else d
                         for d, c in self.report['kept'])
        runner.logger.info(
            'Classes matched by name to the checkpoint\'s: kept the head '
            f'rows of {kept or "none"}; new rows for '
            f'{", ".join(self.report["new"]) or "none"}; dropped '
            f'{", ".join(self.report["dropped"]) or "none"}')
