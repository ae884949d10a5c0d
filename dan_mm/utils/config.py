"""Configs for the tools and the runner builder: load one (with
``--cfg-options``), fill the defaults the tools add, turn features on
(``--amp``, ``--tensorboard``, ``--tta``) and name the config key behind
mmengine's build errors."""
import contextlib
import copy
import logging
import os.path as osp
import re
from typing import Iterator, Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from .errors import ConfigError, DataNotFoundError, MissingExtraError, one_line


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


def amp_optim_wrapper(optim_wrapper: ConfigDict) -> ConfigDict:
    """Turn an optimiser wrapper config into mixed precision.

    fp16 with dynamic loss scaling on GPU; bf16 on CPU, where fp16 autocast
    is not supported and bf16 needs no loss scaling.
    """
    optim_wrapper = ConfigDict(optim_wrapper)
    if torch.cuda.is_available():
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        # mmengine's AmpOptimWrapper refuses to run without an accelerator.
        optim_wrapper.type = 'BF16AmpOptimWrapper'
        optim_wrapper.setdefault('dtype', 'bfloat16')
    return optim_wrapper


def enable_tensorboard(cfg: Config) -> None:
    """Log scalars, confusion matrices and attention panels to TensorBoard.

    Adds ``TensorboardVisBackend`` to the visualizer's backends (next to the
    others) and switches :class:`~dan_mm.engine.hooks.FERVisualizationHook`
    on (added as ``default_hooks.fer_visualization`` if the config has no
    such hook).

    Raises:
        MissingExtraError: The ``tensorboard`` package is missing.
    """
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise MissingExtraError('--tensorboard needs the tensorboard package: '
                                'pip install "dan_mm[tensorboard]" (or -r '
                                'requirements/tensorboard.txt)') from None
    visualizer = cfg.get('visualizer') or ConfigDict(
        type='UniversalVisualizer')
    backends = list(visualizer.get('vis_backends') or [])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer.vis_backends = backends
    cfg.visualizer = visualizer
    hooks = cfg.get('default_hooks') or ConfigDict()
    hook = hooks.get('fer_visualization') or ConfigDict(
        type='FERVisualizationHook')
    hook.enable = True
    hooks.fer_visualization = hook
    cfg.default_hooks = hooks


def enable_visualization(cfg: Config,
                         show: bool = False,
                         out_dir: Optional[str] = None,
                         interval: int = 1,
                         wait_time: float = 2) -> None:
    """Draw test predictions, as mmpretrain's ``tools/test.py --show`` /
    ``--show-dir`` do: switch the config's ``VisualizationHook``
    (``default_hooks.visualization``) on with these settings.

    Args:
        cfg (Config): The test config; changed in place.
        show (bool): Show each drawn image in a window.
        out_dir (str, optional): Save the drawn images in this folder.
        interval (int): Draw every ``interval``-th test sample.
        wait_time (float): Seconds each window stays open.

    Raises:
        ConfigError: The config has no ``default_hooks.visualization``.
    """
    hooks = cfg.get('default_hooks') or {}
    if 'visualization' not in hooks:
        raise ConfigError(
            'default_hooks.visualization: --show and --show-dir need '
            'mmpretrain\'s VisualizationHook there; add default_hooks = '
            'dict(visualization=dict(type="VisualizationHook")) to the config')
    hook = hooks['visualization']
    hook.enable = True
    hook.show = show
    hook.wait_time = wait_time
    hook.out_dir = out_dir
    hook.interval = interval


def apply_tta(cfg: Config) -> None:
    """Test with test-time augmentation, the way mmpretrain's tool does.

    Wraps ``cfg.model`` in ``cfg.tta_model`` (default: mmpretrain's
    ``AverageClsScoreTTA``, the mean of the softmax scores) and tests with
    ``cfg.tta_pipeline`` (default: the test pipeline with a horizontal flip
    and no flip of each image). A ``tta_pipeline`` whose first steps differ
    from the test pipeline's is logged: a config that changes
    ``test_pipeline`` must restate ``tta_pipeline`` too.

    Args:
        cfg (Config): The test config; changed in place.
    """
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        cfg.tta_pipeline = copy.deepcopy(test_pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
                dict(type='RandomFlip', prob=0.0, direction='horizontal')
            ], [test_pipeline[-1]]])
    elif list(cfg.tta_pipeline[:-1]) != list(test_pipeline[:-1]):
        print_log(
            'tta_pipeline does not start with the steps of '
            'test_dataloader.dataset.pipeline (another image size?); it is '
            'used as it is',
            logger='current',
            level=logging.WARNING)
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


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
