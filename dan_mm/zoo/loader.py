"""mmengine's checkpoint loader for http(s) URLs, through the cache.

Registered by :func:`dan_mm.compat.route_checkpoint_loading` for
``http://`` and ``https://``, so ``get_model(name, pretrained=True)`` (a
``Weights:`` URL), ``get_model(..., pretrained=URL)``, ``load_from=URL``
and ``init_cfg=dict(type='Pretrained', checkpoint=URL)`` all download
through :func:`cached_checkpoint`: checked, converted once, loaded safely.
"""
import os
from typing import Any, Optional

from ..utils.checkpoint import load_checkpoint_file
from .cache import cached_checkpoint


def load_from_url(filename: str,
                  map_location: Any = None,
                  model_dir: Optional[str] = None,
                  progress: Optional[bool] = None) -> Any:
    """Load the checkpoint at a URL from the cache, downloading it once.

    Args:
        filename (str): http(s) URL of the checkpoint.
        map_location (str | torch.device, optional): Same as
            :func:`torch.load`.
        model_dir (str, optional): Cache folder. Defaults to
            :func:`dan_mm.zoo.checkpoint_dir`.
        progress (bool, optional): Show a progress bar. Defaults to whether
            stderr is a terminal.

    Returns:
        Any: The loaded checkpoint, in dan_mm's layout.
    """
    if progress is None:
        progress = os.isatty(2)
    path = cached_checkpoint(filename, progress=progress, cache_dir=model_dir)
    return load_checkpoint_file(path, map_location, source=filename)
