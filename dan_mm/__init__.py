"""dan_mm: DAN (Wen et al., arXiv 2109.07270) as an MMPretrain plugin.

Importing this package registers DAN's components in MMPretrain's
registries and its model zoo with MMPretrain's ModelHub (``list_models``,
``get_model``, ``inference_model`` by name), and applies dan_mm's few
changes to upstream code, all in :mod:`dan_mm.compat` (among them:
mmengine's checkpoint loading goes through dan_mm's safe loader). The
command-line tools defer this until their arguments are checked
(:mod:`dan_mm.deferred_imports`).
"""
import warnings

from .deferred_imports import RegisterOnHeavyImport, defer_requested
from .version import __version__

# mmcv-lite has no compiled ops; mmpretrain imports one optional op at start
# up and warns about it on every run. Nothing in DAN uses it.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')


def _register() -> None:
    from . import datasets, engine, evaluation, models  # noqa: F401
    from .compat import apply_patches
    from .utils.model_index import register_model_index
    apply_patches()
    register_model_index()


if defer_requested():
    RegisterOnHeavyImport(_register).install()
else:
    _register()

__all__ = ['__version__']
