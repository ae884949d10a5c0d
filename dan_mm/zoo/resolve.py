"""Model names of the zoo to a config and a local checkpoint.

The names and their ``Weights:`` come from dan_mm's metafile
(``configs/dan/metafile.yml``, found through ``model-index.yml`` as
mmpretrain's ModelHub finds it), so ``mmpretrain.get_model(name,
pretrained=True)`` and :func:`resolve_model` agree.
"""
import os.path as osp
from typing import List, NamedTuple, Optional, Tuple

from mmengine.config import Config
from modelindex.load_model_index import load

from ..utils.config import load_config
from ..utils.errors import ConfigError
from ..utils.model_index import find_model_index
from .cache import cached_checkpoint


class ZooModel(NamedTuple):
    """A model of dan_mm's zoo that has weights to download.

    Attributes:
        name (str): Its name (``dan_r18_3rdparty_rafdb``).
        config (str): Absolute path of its config.
        weights (str): The URL of its weights.
    """
    name: str
    config: str
    weights: str


def zoo_models() -> List[ZooModel]:
    """Every model of dan_mm's metafile with ``Weights:``, in its order."""
    found = find_model_index()
    if found is None:
        return []
    index = load(found[0])
    index.build_models_with_collections()
    return [
        ZooModel(m.name, osp.abspath(osp.join(found[1], m.config)), m.weights)
        for m in index.models if m.weights and m.config
    ]


def model_names() -> List[str]:
    """The names that :func:`resolve_model` (and every tool) takes."""
    return [model.name for model in zoo_models()]


def find_zoo_model(name: str) -> Optional[ZooModel]:
    """The zoo model called ``name`` (any case), or None."""
    for model in zoo_models():
        if model.name.lower() == str(name).lower():
            return model
    return None


def is_model_name(text: Optional[str]) -> bool:
    """Whether ``text`` is a model name of the zoo (not a file)."""
    return bool(text) and not osp.exists(str(text)) and \
        find_zoo_model(str(text)) is not None


def config_classes(cfg: Config) -> Optional[list]:
    """The classes a config's test set names, if it names them."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    classes = (dataset.get('metainfo') or {}).get('classes')
    return list(classes) if classes else None


def resolve_model(model: str,
                  checkpoint: Optional[str] = None,
                  progress: bool = True) -> Tuple[str, Optional[str]]:
    """Turn a model name (or a config) into a config and a local checkpoint.

    The one way from a name to files: every tool and API that takes a
    name calls this. A name's weights are downloaded once into the cache
    (:func:`dan_mm.zoo.checkpoint_dir`), converted to dan_mm's layout once,
    and read from there afterwards without a request. A checkpoint URL is
    fetched into the same cache.

    Args:
        model (str): A name of :func:`model_names`, or a config file.
        checkpoint (str, optional): A checkpoint (path or URL) to use
            instead of the name's weights; needed with a config file to
            load weights.
        progress (bool): Show the download's progress bar.

    Returns:
        tuple[str, str | None]: ``(config path, local checkpoint)``; the
        checkpoint is None for a config without one.

    Raises:
        ConfigError: Neither a config file nor a known name; the message
            lists the names.
        CheckpointDownloadError: The weights cannot be downloaded; the
            message names the URL, the mirror and where to put the file.
    """
    model = str(model)
    zoo_model = None if osp.isfile(model) else find_zoo_model(model)
    if zoo_model is None and not osp.isfile(model):
        what = 'config file not found' if model.endswith('.py') else \
            'neither a config file nor a model name'
        raise ConfigError(f'{what}: {model}; the model names are '
                          f'{", ".join(model_names())}')
    config = zoo_model.config if zoo_model is not None else model
    if checkpoint and '://' in str(checkpoint):
        return config, cached_checkpoint(str(checkpoint), progress=progress)
    if checkpoint or zoo_model is None:
        return config, checkpoint
    classes = config_classes(load_config(config))
    meta = dict(classes=classes) if classes else None
    return config, cached_checkpoint(
        zoo_model.weights, dataset_meta=meta, progress=progress)


def split_model_arguments(
        config: Optional[str],
        checkpoint: Optional[str],
        target: Optional[str],
        what: str = 'INPUT') -> Tuple[str, Optional[str], str]:
    """A tool's ``[CONFIG CHECKPOINT | NAME] INPUT`` positionals, sorted.

    argparse fills three optional positionals from the left, so
    ``NAME INPUT`` arrives as ``config=NAME, checkpoint=INPUT``.

    Args:
        config (str, optional): The first positional.
        checkpoint (str, optional): The second.
        target (str, optional): The third.
        what (str): The input's name in messages. Defaults to ``'INPUT'``.

    Returns:
        tuple[str, str | None, str]: ``(model, checkpoint, input)``; the
        checkpoint is None after a model name.

    Raises:
        ConfigError: Too few arguments, or two where the first is not a
            model name; the message lists the names.
    """
    given = [a for a in (config, checkpoint, target) if a]
    names = ', '.join(model_names())
    if len(given) < 2:
        raise ConfigError(
            f'give a model name and {what} (the DAN authors\' models, '
            f'downloaded once: {names}), or CONFIG CHECKPOINT {what}')
    if len(given) == 2:
        if not is_model_name(given[0]):
            raise ConfigError(
                f'{given[0]} is not a model name ({names}): give a name and '
                f'{what}, or CONFIG CHECKPOINT {what}')
        return given[0], None, given[1]
    return config, checkpoint, target
