"""Where downloaded weights are kept: ``$DAN_MM_HOME``, else
``$XDG_CACHE_HOME/dan_mm``, else ``~/.cache/dan_mm``.

Weights go to ``<home>/checkpoints/``: each file as downloaded (the authors'
file names), the dan_mm copy converted from it (``<name>.dan_mm.pth``) and
``sha256.json``, the SHA-256 of every file when it first came.
"""
import os
import os.path as osp

HOME_ENV = 'DAN_MM_HOME'


def zoo_home() -> str:
    """dan_mm's cache folder (``$DAN_MM_HOME`` moves it).

    Returns:
        str: The absolute path (it may not exist yet).
    """
    home = os.environ.get(HOME_ENV)
    if not home:
        cache = os.environ.get('XDG_CACHE_HOME') or osp.join('~', '.cache')
        home = osp.join(cache, 'dan_mm')
    return osp.abspath(osp.expanduser(home))


def checkpoint_dir() -> str:
    """Where downloaded and converted checkpoints are kept.

    Returns:
        str: ``<zoo_home()>/checkpoints``.
    """
    return osp.join(zoo_home(), 'checkpoints')
