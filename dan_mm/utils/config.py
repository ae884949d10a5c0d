"""Configs for the tools and the runner builder: load one (with
``--cfg-options``), fill the defaults the tools add and name the config key
behind mmengine's build errors. (What a run turns on, AMP, TensorBoard,
TTA, is :mod:`dan_mm.engine.run_config`.)"""
import contextlib
import os.path as osp
import re
from typing import Iterator, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict

from .errors import ConfigError, DataNotFoundError, one_line


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load a config file and merge ``--cfg-options`` into it.

    Raises:
        ConfigError: The file (or a ``_base_`` file) is missing or cannot be
            parsed, or a module in its ``custom_imports`` does not exist.
    """
    if not osp.isfile(path):
        raise ConfigError(f'config file not found: {path}')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as err:
        raise ConfigError(
            f'cannot parse config {path}: {one_line(err)}') from err
    except FileNotFoundError as err:  # a _base_ file
        raise ConfigError(f'config {path} inherits a missing file: '
                          f'{err.filename or one_line(err)}') from err
    except KeyError as err:  # {{_base_.name}} of a name no base defines
        raise ConfigError(f'config {path} refers to {err}, which its _base_ '
                          'files do not define') from err
    except ImportError as err:
        missing = _missing_custom_import(err)
        if missing is None:
            raise
        raise ConfigError(
            f'config {path}: custom_imports names the module "{missing}", '
            'which is not installed (pip install . in the dan_mm checkout)'
        ) from err
    merge_cfg_options(cfg, cfg_options)
    return cfg


def merge_cfg_options(cfg: Config, cfg_options: Optional[dict]) -> None:
    """Merge ``--cfg-options`` into ``cfg``; an option that does not fit the
    config's structure is a :class:`ConfigError` naming it.

    For example ``model.backbone.init_cfg.type=X`` where ``init_cfg`` is a
    list (mmengine raises a bare ``TypeError`` deep in its merge).

    Args:
        cfg (Config): The config, changed in place.
        cfg_options (dict, optional): ``--cfg-options`` as parsed by
            ``DictAction``.

    Raises:
        ConfigError: An option's key path does not match the config.
    """
    for key, value in (cfg_options or {}).items():
        try:
            cfg.merge_from_dict({key: value})
        except (TypeError, KeyError, IndexError, ValueError) as err:
            raise ConfigError(
                f'--cfg-options {key}={value!r} does not fit the config '
                f'({one_line(err)}); a list is indexed by number (e.g. '
                f'{key.split(".")[0]}.0.xxx), print the config with mmpretrain'
                "'s tools/misc/print_config.py to see its structure") from err


def _missing_custom_import(err: ImportError) -> Optional[str]:
    """The module of ``custom_imports`` that does not exist, if that is
    what mmengine's import error is about (not an import failing inside an
    existing module)."""
    if 'custom modules' not in str(err):
        return None
    cause = err.__cause__ or err.__context__
    while cause is not None:
        if isinstance(cause, ModuleNotFoundError) and cause.name and \
                f"'{cause.name}" in str(err):
            return cause.name
        cause = cause.__cause__ or cause.__context__
    return None


def set_work_dir(cfg: Config, work_dir: Optional[str], config: str) -> None:
    """``--work-dir``, else the config's, else ``work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])


def set_dataloader_defaults(cfg: Config,
                            field: str,
                            pin_memory: bool = True,
                            persistent_workers: bool = True) -> None:
    """Fill mmpretrain's dataloader defaults into ``cfg[field]``.

    Unlike mmpretrain's tools, ``persistent_workers`` is only turned on when
    the loader has workers (PyTorch refuses it with ``num_workers=0``), and
    pinned memory only when there is a GPU to pin for.
    """
    loader = cfg.get(field, None)
    if loader is None:
        return
    defaults = ConfigDict(
        collate_fn=dict(type='default_collate'),
        pin_memory=pin_memory and torch.cuda.is_available(),
        persistent_workers=persistent_workers)
    defaults.update(loader)
    if defaults.get('num_workers', 0) == 0:
        defaults.persistent_workers = False
    cfg[field] = defaults


def check_data_roots(cfg: Config, fields: Tuple[str, ...]) -> None:
    """Stop before anything is built when a loader's data root is missing.

    Every data set checks its own root too; this names the config key and
    also covers mmpretrain's (``CustomDataset``) and fails before the model
    is built.

    Args:
        cfg (Config): The config.
        fields (tuple[str]): Loaders to check, e.g. ``('test_dataloader',)``.

    Raises:
        DataNotFoundError: A ``<loader>.dataset.data_root`` is not a folder.
    """
    for field in fields:
        dataset = (cfg.get(field) or {}).get('dataset') or {}
        root = dataset.get('data_root')
        if root and not osp.isdir(root):
            raise DataNotFoundError(
                f'{field}.dataset.data_root: {root} does not exist; put or '
                f'link the data set there (ln -s /path/to/your/copy {root}) '
                f'or point the config at it (--cfg-options '
                f'{field}.dataset.data_root=PATH)')


# mmengine's registry miss and Python's argument errors, as raised when a
# config dict is built.
_NOT_REGISTERED = re.compile(r'(\S+) is not in the (\S+) registry')
_BAD_ARGUMENT = re.compile(
    r"(?:(\w+)\.)?__init__\(\) got an unexpected keyword argument '(\w+)'")
_MISSING_ARGUMENT = re.compile(
    r'(?:(\w+)\.)?__init__\(\) missing \d+ required positional '
    r"arguments?: (.+)")


def _config_paths(node, path: str = '') -> Iterator[Tuple[str, dict]]:
    """``(dotted key, dict)`` of every dict in a config, depth first."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _config_paths(value, f'{path}.{key}' if path else key)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _config_paths(value, f'{path}[{i}]')


def _config_error(err: Exception, cfg: Config) -> Optional[ConfigError]:
    """A ConfigError naming the config key behind ``err``, when ``err`` is
    mmengine failing to build a config dict; else None."""
    message = err.args[0] if err.args else ''
    if not isinstance(message, str):
        return None
    found = _NOT_REGISTERED.match(message)
    if isinstance(err, KeyError) and found:
        name, registry = found.groups()
        keys = [
            f'{path}.type' if path else 'type'
            for path, node in _config_paths(cfg.to_dict())
            if node.get('type') == name
        ]
        where = ', '.join(keys) if keys else 'a type in the config'
        return ConfigError(
            f'{where}: "{name}" is not a registered {registry} type; check '
            'the spelling, or import the module that registers it '
            '(custom_imports)')
    if not isinstance(err, TypeError):
        return None
    unexpected, missing = _BAD_ARGUMENT.search(message), \
        _MISSING_ARGUMENT.search(message)
    found = unexpected or missing
    if found is None:
        return None
    cls = found.group(1)
    typed = [(path, node) for path, node in _config_paths(cfg.to_dict())
             if 'type' in node]
    if unexpected:
        arg = found.group(2)
        # The class that refuses may be a base class the configured type
        # hands its **kwargs to (RAFDB -> BaseDataset).
        candidates = [(p, n) for p, n in typed if arg in n]
        exact = [(p, n) for p, n in candidates if n['type'] == cls]
        candidates = exact or candidates
        if not candidates:  # not a key of the config: a bug, keep the trace
            return None
        keys = ', '.join(f'{p}.{arg}' for p, _ in candidates)
        return ConfigError(
            f'{keys}: {candidates[0][1]["type"]} takes no argument "{arg}"; '
            'check its spelling against the class\'s docstring')
    paths = [p or '(top level)' for p, n in typed if n['type'] == cls]
    if not paths:
        return None
    return ConfigError(f'{", ".join(paths)}: {cls} needs {found.group(2)}; '
                       'add it to the config')


@contextlib.contextmanager
def naming_config_keys(cfg: Config):
    """Turn mmengine's errors for a bad config dict into one-line
    :class:`ConfigError` s that name the config key.

    Covers a ``type`` no registry knows (mmengine: ``KeyError: X is not in
    the mmpretrain::model registry``), an argument a class does not take
    and a required one the config leaves out. Other errors pass unchanged.

    Args:
        cfg (Config): The config the runner is built from.
    """
    try:
        yield
    except (KeyError, TypeError) as err:
        config_error = _config_error(err, cfg)
        if config_error is None:
            raise
        raise config_error from err
