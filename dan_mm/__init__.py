"""dan_mm: DAN (Wen et al., arXiv 2109.07270) as an MMPretrain plugin.

Importing this package registers DAN's components in MMPretrain's
registries and its model zoo with MMPretrain's ModelHub (``list_models``,
``get_model``, ``inference_model`` by name), and routes mmengine's
checkpoint loading through dan_mm's safe loader
(:mod:`dan_mm.utils.checkpoint`).
"""
import warnings

# mmcv-lite has no compiled ops; mmpretrain imports one optional op at start
# up and warns about it on every run. Nothing in DAN uses it.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

from .utils import register_checkpoint_loader  # noqa: E402
from .version import __version__  # noqa: E402

register_checkpoint_loader()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .utils.model_index import register_model_index  # noqa: E402

register_model_index()

__all__ = ['__version__']
