"""The DAN authors' released models by name: resolved, downloaded once into
a cache (``$DAN_MM_HOME``), converted once, and read offline afterwards."""
from .cache import cached_checkpoint, fetch_released_file
from .download import download_file
from .home import HOME_ENV, checkpoint_dir, zoo_home
from .loader import load_from_url
from .released import BAIDU_KEY, BAIDU_MIRROR, RELEASED_FILES, released_file
from .resolve import (config_classes, find_zoo_model, is_model_name,
                      model_names, resolve_model, split_model_arguments)

__all__ = [
    'resolve_model', 'split_model_arguments', 'model_names', 'is_model_name',
    'find_zoo_model', 'config_classes', 'cached_checkpoint',
    'fetch_released_file', 'download_file', 'load_from_url', 'zoo_home',
    'checkpoint_dir', 'HOME_ENV', 'RELEASED_FILES', 'released_file',
    'BAIDU_MIRROR', 'BAIDU_KEY'
]
