"""Small helpers shared by the command-line tools."""
import argparse
import contextlib
import copy
import functools
import logging
import os
import os.path as osp
import sys
from typing import Callable, Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from .checkpoint import TRUST_ENV, TRUST_FLAG, trust_checkpoints
from .errors import (CheckpointError, CheckpointMismatchError, ConfigError,
                     MissingExtraError, UserError, one_line)

DEBUG_ENV = 'DAN_MM_DEBUG'


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load a config file and merge ``--cfg-options`` into it.

    Raises:
        ConfigError: The file is missing.
    """
    if not osp.isfile(path):
        raise ConfigError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


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


def add_tensorboard_argument(parser: argparse.ArgumentParser) -> None:
    """``--tensorboard``: see :func:`enable_tensorboard`."""
    parser.add_argument(
        '--tensorboard',
        action='store_true',
        help='also log to TensorBoard (work_dir/<timestamp>/vis_data): '
        'scalars, the confusion matrix and attention panels of a few images')


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


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--debug``: show tracebacks of user errors too.

    The flag sets ``DAN_MM_DEBUG=1`` in the environment, so that data-loader
    workers and the other ranks of a distributed run see it as well.
    """

    class _SetDebug(argparse.Action):

        def __call__(self, parser, namespace, values, option_string=None):
            os.environ[DEBUG_ENV] = '1'
            setattr(namespace, self.dest, True)

    parser.add_argument(
        '--debug',
        nargs=0,
        action=_SetDebug,
        default=False,
        help=f'show the full traceback of errors (same as {DEBUG_ENV}=1)')


def add_trust_checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--trust-checkpoint``: load checkpoints in full (may run code).

    Without it, checkpoints that need more than the allow-listed types are
    refused (:func:`dan_mm.utils.load_checkpoint_file`). The flag sets
    ``DAN_MM_TRUST_CHECKPOINTS=1`` in the environment, so that the other
    ranks of a distributed run trust them as well.
    """

    class _Trust(argparse.Action):

        def __call__(self, parser, namespace, values, option_string=None):
            trust_checkpoints()
            setattr(namespace, self.dest, True)

    parser.add_argument(
        TRUST_FLAG,
        nargs=0,
        action=_Trust,
        default=False,
        help='load checkpoints in full even if they hold more than weights '
        '(unpickling can run code: only for files you trust; same as '
        f'{TRUST_ENV}=1)')


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


def debug_enabled() -> bool:
    """Whether ``--debug`` or ``DAN_MM_DEBUG=1`` asked for tracebacks."""
    return os.environ.get(DEBUG_ENV,
                          '').strip().lower() not in ('', '0', 'false', 'no',
                                                      'off')


def exit_on_user_error(main: Callable) -> Callable:
    """Decorate a tool's ``main()``: a :class:`UserError` ends the program
    with one line, ``error: <message>``, and exit status 1.

    Other exceptions are bugs and keep their traceback; with ``--debug`` (or
    ``DAN_MM_DEBUG=1``) user errors keep theirs too.

    Args:
        main (Callable): The tool's entry point.

    Returns:
        Callable: The wrapped entry point.
    """

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as err:
            if debug_enabled():
                raise
            print(f'error: {one_line(err)}', file=sys.stderr, flush=True)
            sys.exit(1)

    return wrapper


@contextlib.contextmanager
def naming_checkpoint(checkpoint: Optional[str]):
    """Put the checkpoint's file name into a mismatch error raised inside.

    The model refuses a checkpoint of another shape while loading its state
    dict, where the file name is unknown.

    Args:
        checkpoint (str, optional): The checkpoint being loaded.
    """
    try:
        yield
    except CheckpointMismatchError as err:
        if checkpoint is None or str(checkpoint) in str(err):
            raise
        raise CheckpointMismatchError(
            f'cannot load checkpoint {checkpoint}: {one_line(err)}') from err


def find_last_checkpoint(config: str, work_dir: Optional[str] = None) -> str:
    """The checkpoint that ``tools/train.py CONFIG`` saved last.

    The runner writes its path into ``<work_dir>/last_checkpoint``; the work
    dir defaults to ``work_dirs/<config name>`` as in :func:`set_work_dir`.

    Args:
        config (str): The config file that was trained.
        work_dir (str, optional): The training's ``--work-dir``.

    Returns:
        str: Path of the checkpoint file.

    Raises:
        CheckpointError: Nothing was trained there, or the file it names is
            gone; the message says how to train one.
    """
    if work_dir is None:
        work_dir = osp.join('work_dirs', osp.splitext(osp.basename(config))[0])
    pointer = osp.join(work_dir, 'last_checkpoint')
    how = f'train one with "python tools/train.py {config}" or pass a ' \
        'checkpoint'
    if not osp.isfile(pointer):
        raise CheckpointError(f'no checkpoint given and no trained one: '
                              f'{osp.abspath(pointer)} does not exist; {how}')
    with open(pointer, encoding='utf-8') as f:
        checkpoint = f.read().strip()
    moved = osp.join(work_dir, osp.basename(checkpoint))
    if not osp.isfile(checkpoint) and osp.isfile(moved):
        checkpoint = moved  # the work dir was moved or copied
    if not osp.isfile(checkpoint):
        raise CheckpointError(f'{pointer} names {checkpoint}, which does not '
                              f'exist; {how}')
    return checkpoint
