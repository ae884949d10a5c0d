"""Small helpers shared by the command-line tools."""
import argparse
import contextlib
import functools
import os
import os.path as osp
import sys
from typing import Callable, Optional

import torch
from mmengine.config import Config, ConfigDict

from .errors import CheckpointMismatchError, ConfigError, UserError, one_line
from .precision import PRECISIONS

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


def add_precision_argument(parser: argparse.ArgumentParser,
                           default: str = 'fp32') -> None:
    """Add ``--precision {fp32,fp16,bf16}``, the one spelling of inference
    precision in every tool (autocast; see :mod:`dan_mm.utils.precision`).
    """
    parser.add_argument(
        '--precision',
        choices=list(PRECISIONS),
        default=default,
        help='autocast precision (bf16 is fast only on CPUs with '
        f'AVX512-BF16/AMX and on GPUs; default: {default})')


def debug_enabled() -> bool:
    """Whether ``--debug`` or ``DAN_MM_DEBUG=1`` asked for tracebacks."""
    return os.environ.get(DEBUG_ENV,
                          '').strip().lower() not in ('', '0', 'false', 'no',
                                                      'off')


def exit_on_user_error(main: Callable) -> Callable:
    """Decorate a tool's ``main()``: a :class:`UserError` ends the program
    with one line, ``error: <message>``, and exit status 1 (the error's
    ``exit_code``).

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
            sys.exit(err.exit_code)

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
