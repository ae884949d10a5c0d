"""Every change dan_mm makes to upstream code, in one place.

``import dan_mm`` calls :func:`apply_patches` once. Each patch is a named
function that says what it changes, why, and for which upstream versions
it was written (:data:`WRITTEN_FOR`). On any other installed version it
still applies, after an :class:`UpstreamVersionWarning` naming the patch
and those versions, so that a changed upstream is noticed; when the thing
it changes is absent, it is skipped with the same warning.

Nothing outside this module assigns into an upstream module or class:
``tests/test_boundaries.py`` checks that on the source.
"""
import importlib.metadata
import warnings
from typing import Optional, Tuple

import mmpretrain.datasets
import mmpretrain.datasets.transforms
import mmpretrain.datasets.transforms.utils
from mmengine.runner import CheckpointLoader
from modelindex.models.Model import Model

from .datasets.transforms.transform_lookup import get_transform_idx
from .models.classifiers.dan import DAN
from .utils.checkpoint import CHECKPOINT_LOADERS
from .zoo import config_classes, load_from_url

# The upstream versions the patches below were written for and tested with
# (requirements/runtime.txt pins them).
WRITTEN_FOR = {'mmengine': '0.10.7', 'mmpretrain': '1.2.0', 'torch': '2.14.1'}


class UpstreamVersionWarning(UserWarning):
    """A patch meets an upstream version it was not written for."""


def installed_version(distribution: str) -> Optional[str]:
    """The installed version of ``distribution`` without its local part
    (torch's ``2.14.1+cpu`` is ``2.14.1``); None when not installed."""
    try:
        return importlib.metadata.version(distribution).split('+')[0]
    except importlib.metadata.PackageNotFoundError:
        return None


def _check_versions(patch: str, distributions: Tuple[str, ...]) -> None:
    """Warn once for ``patch`` if any of ``distributions`` is not at the
    version in :data:`WRITTEN_FOR`."""
    found = {name: installed_version(name) for name in distributions}
    if all(found[name] == WRITTEN_FOR[name] for name in distributions):
        return
    wanted = ', '.join(f'{name}=={WRITTEN_FOR[name]}'
                       for name in distributions)
    have = ', '.join(f'{name} {found[name]}' for name in distributions)
    _warn(f'{patch} was written for {wanted}, found {have}: check that it '
          'is still needed and still right')


def _warn(message: str) -> None:
    warnings.warn(
        f'dan_mm.compat.{message}', UpstreamVersionWarning, stacklevel=3)


def route_checkpoint_loading() -> None:
    """Make mmengine load checkpoints through dan_mm's safe loaders.

    Changes: mmengine's ``CheckpointLoader`` schemes ``''`` (local files),
    ``http://``/``https://``, ``torchvision://``/``modelzoo://``,
    ``open-mmlab://``/``openmmlab://`` and ``mmcls://`` map to the loaders
    in :data:`dan_mm.utils.checkpoint.CHECKPOINT_LOADERS` (http(s) URLs to
    :func:`dan_mm.zoo.load_from_url`, through dan_mm's cache), through
    mmengine's public ``CheckpointLoader.register_scheme(..., force=True)``.

    Why: mmengine 0.10.7 predates torch's ``weights_only`` default. Its
    local loader calls ``torch.load`` without ``weights_only``, which torch
    2.14.1 turns into ``weights_only=True`` without mmengine's types, so
    its own checkpoints (a ``HistoryBuffer`` in the message hub) fail; its
    downloads load with ``weights_only=False``, which runs any code a file
    names. dan_mm's loaders use ``weights_only=True`` with an allow-list
    and load in full only when the user opted in
    (:func:`dan_mm.utils.trust_checkpoints`). The named-model schemes
    download through mmengine's module-level ``load_from_http``, so they
    are registered too.

    Written for: mmengine==0.10.7 with torch 2.14.1.
    """
    name = 'route_checkpoint_loading'
    _check_versions(name, ('mmengine', 'torch'))
    if not hasattr(CheckpointLoader, 'register_scheme'):
        _warn(f'{name}: mmengine has no CheckpointLoader.register_scheme; '
              'skipped, checkpoints load as mmengine loads them')
        return
    loaders = dict(CHECKPOINT_LOADERS)
    # downloads go through the zoo's cache: checked, converted once, locked
    loaders[('http://', 'https://')] = load_from_url
    for prefixes, loader in loaders.items():
        CheckpointLoader.register_scheme(
            prefixes=prefixes, loader=loader, force=True)


# Where mmpretrain 1.2.0 defines get_transform_idx (transforms.utils, whose
# remove_transform calls it) and re-exports it.
TRANSFORM_LOOKUP_MODULES = (mmpretrain.datasets,
                            mmpretrain.datasets.transforms,
                            mmpretrain.datasets.transforms.utils)


def match_transform_subclasses() -> None:
    """Let mmpretrain's pipeline lookup find subclasses of the named step.

    Changes: ``get_transform_idx`` in the modules of
    :data:`TRANSFORM_LOOKUP_MODULES` becomes
    :func:`dan_mm.datasets.transforms.get_transform_idx` (so does what
    mmpretrain's ``remove_transform`` calls).

    Why: mmpretrain 1.2.0 compares class names only, so
    ``LoadFaceImage`` (a ``LoadImageFromFile`` subclass) is not found:
    ``tools/misc/verify_dataset.py`` refuses every dan_mm config, and the
    inferencers keep the loader they mean to
    remove. The replacement finds exact names first, as before. mmpretrain
    has no registration hook for this lookup.

    Written for: mmpretrain==1.2.0.
    """
    name = 'match_transform_subclasses'
    _check_versions(name, ('mmpretrain', ))
    if not any(
            hasattr(module, 'get_transform_idx')
            for module in TRANSFORM_LOOKUP_MODULES):
        _warn(f'{name}: mmpretrain has no get_transform_idx; skipped')
    for module in TRANSFORM_LOOKUP_MODULES:
        if hasattr(module, 'get_transform_idx'):
            module.get_transform_idx = get_transform_idx


# What inference_model reads from a model: a task it maps to an inferencer.
CLASSIFIER_METAINFO = Model(
    name='dan',
    results=[dict(Task='Image Classification', Dataset='unknown', Metrics={})])


def _get_metainfo(model: DAN) -> Model:
    metainfo = model.__dict__.get('_zoo_metainfo')
    return CLASSIFIER_METAINFO if metainfo is None else metainfo


def _set_metainfo(model: DAN, metainfo: Optional[Model]) -> None:
    model.__dict__['_zoo_metainfo'] = metainfo


DAN_METAINFO = property(
    _get_metainfo,
    _set_metainfo,
    doc='The model-zoo entry get_model stored, '
    'or one with the task "Image Classification".')


def report_classifier_task() -> None:
    """Make every DAN tell ``mmpretrain.inference_model`` its task.

    Changes: ``DAN._metainfo`` (dan_mm's own class) becomes
    :data:`DAN_METAINFO`, a property: the model-zoo entry ``get_model``
    stored, or :data:`CLASSIFIER_METAINFO` when it stored None.

    Why: mmpretrain 1.2.0's ``get_model`` sets the private
    ``model._metainfo`` to the zoo entry for a model name but to None for a
    config file, and ``inference_model(model, image)`` chooses the
    inferencer from ``model._metainfo`` only, so ``inference_model`` on
    ``get_model('configs/....py')`` raised "No available inferencer". There
    is no public way to give a model its task: ``get_model`` overwrites
    the attribute after building, so only a property on the class keeps a
    task there.

    Written for: mmpretrain==1.2.0.
    """
    _check_versions('report_classifier_task', ('mmpretrain', ))
    DAN._metainfo = DAN_METAINFO


def _get_dataset_meta(model: DAN) -> dict:
    meta = model.__dict__.get('_zoo_dataset_meta') or {}
    if meta.get('classes'):
        return meta
    cfg = model.__dict__.get('_config')
    classes = config_classes(cfg) if cfg is not None else None
    return dict(meta, classes=classes) if classes else meta


def _set_dataset_meta(model: DAN, meta: Optional[dict]) -> None:
    model.__dict__['_zoo_dataset_meta'] = meta


DAN_DATASET_META = property(
    _get_dataset_meta,
    _set_dataset_meta,
    doc='The dataset_meta get_model stored; without classes, the classes '
    'that the config\'s test set names.')


def classes_from_config() -> None:
    """Give a DAN the classes its config names when its checkpoint has none.

    Changes: ``DAN._dataset_meta`` (dan_mm's own class) becomes
    :data:`DAN_DATASET_META`, a property: what ``get_model`` stored, with
    ``classes`` from ``test_dataloader.dataset.metainfo.classes`` of the
    model's config when that has none.

    Why: mmpretrain 1.2.0's ``get_model`` takes the classes from the
    checkpoint's ``meta`` or else from the test dataset class's
    ``METAINFO``, never from the config. The DAN authors' checkpoints have
    no ``meta``, and AffectNet-7 and -8 share one dataset class, so their
    models (configs/dan_r18_3rdparty_*.py name the authors' order) had no
    or wrong class names. ``get_model`` sets ``_dataset_meta`` before
    ``_config``, so the classes are looked up when read.

    Written for: mmpretrain==1.2.0.
    """
    _check_versions('classes_from_config', ('mmpretrain', ))
    DAN._dataset_meta = DAN_DATASET_META


PATCHES = (route_checkpoint_loading, match_transform_subclasses,
           report_classifier_task, classes_from_config)
_applied = False


def apply_patches() -> None:
    """Apply every patch of this module once; later calls do nothing."""
    global _applied
    if _applied:
        return
    for patch in PATCHES:
        patch()
    _applied = True
