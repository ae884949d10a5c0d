"""dan_mm's model zoo in mmpretrain's ModelHub (``list_models``, ...)."""
import os.path as osp
from typing import Optional, Tuple

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
_registered = False


def find_model_index() -> Optional[Tuple[str, str]]:
    """Where ``model-index.yml`` is, and the folder its paths start from.

    A source checkout has it at the repository root (preferred, so that
    edits to ``configs/`` count); an installed package in ``dan_mm/.mim/``,
    next to the copied configs (``setup.py`` puts them there, as mmpretrain
    does).

    Returns:
        tuple[str, str] | None: ``(model_index_path, config_prefix)``, or
        None when neither exists.
    """
    for root in (osp.dirname(PACKAGE_DIR), osp.join(PACKAGE_DIR, '.mim')):
        path = osp.join(root, 'model-index.yml')
        if osp.isfile(path) and osp.isfile(
                osp.join(root, 'configs', 'dan', 'metafile.yml')):
            return path, root
    return None


def register_model_index() -> bool:
    """Register dan_mm's models with :class:`mmpretrain.apis.ModelHub`.

    After this, ``mmpretrain.list_models('dan*')``, ``get_model(name)``,
    ``inference_model(name, img)`` and the inferencers know dan_mm's models
    by name (their ``Config:`` paths resolve to dan_mm's configs). Called on
    ``import dan_mm``; calling it again changes nothing.

    Returns:
        bool: Whether the models are registered.
    """
    global _registered
    if not _registered:
        found = find_model_index()
        if found is None:
            return False
        from mmpretrain.apis import ModelHub
        ModelHub.register_model_index(found[0], config_prefix=found[1])
        _registered = True
    return True
