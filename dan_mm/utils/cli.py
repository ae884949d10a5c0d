"""The command line of the tools: shared arguments, checkpoint paths, and
a user error as one ``error:`` line with exit status 1.

Light: the standard library only, so that a tool answers ``--help``, a bad
argument or a missing file before it imports torch
(:mod:`dan_mm.deferred_imports`; :func:`check_files_exist`).
"""
import argparse
import contextlib
import functools
import logging
import os
import os.path as osp
import re
import sys
from typing import Callable, Optional, Sequence

from .errors import (DEBUG_ENV, TRUST_ENV, TRUST_FLAG, CheckpointError,
                     CheckpointMismatchError, CheckpointNotFoundError,
                     ConfigError, InputNotFoundError, UserError, debug_enabled,
                     one_line, trust_checkpoints)
from .worker_errors import launched_here, peer_user_error, record_user_error

__all__ = [
    'DEBUG_ENV', 'DefaultsHelpFormatter', 'print_note', 'add_debug_argument',
    'add_trust_checkpoint_argument', 'add_precision_argument',
    'add_tensorboard_argument', 'debug_enabled', 'exit_on_user_error',
    'naming_checkpoint', 'check_checkpoint_file', 'find_last_checkpoint',
    'check_files_exist', 'PRECISION_NAMES', 'DETECTOR_NAMES', 'API_FLAGS',
    'in_flags', 'REPORT_LOGGER', 'report_logger', 'show_report', 'print_errors'
]

# The choices of --precision and --detector, spelled here without torch
# (tests/test_utils/test_light_cli.py keeps them equal to
# dan_mm.utils.precision.PRECISIONS and inference's DETECTOR_SHORTCUTS).
PRECISION_NAMES = ('fp32', 'fp16', 'bf16')
DETECTOR_NAMES = ('retinaface', 'haar', 'none')

#: The logger of the lines a tool shows its user (summaries, notes, skipped
#: files): the package logs them; :func:`show_report` prints them.
REPORT_LOGGER = 'dan_mm.report'


def report_logger() -> logging.Logger:
    """The logger of :data:`REPORT_LOGGER`."""
    return logging.getLogger(REPORT_LOGGER)


class _ConsoleHandler(logging.Handler):
    """INFO lines on stdout as they are, warnings on stderr as
    ``warning: ...`` (the streams looked up when each line is written),
    parameters named as flags (:func:`in_flags`).

    Written with ``tqdm.write``: a line logged while a progress bar is
    drawn gets a line of its own instead of being glued to the bar's."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm
        message = in_flags(record.getMessage())
        if record.levelno >= logging.WARNING:
            tqdm.write(f'warning: {message}', file=sys.stderr)
        else:
            tqdm.write(message, file=sys.stdout)
            sys.stdout.flush()


def show_report() -> None:
    """Print the package's report lines (:data:`REPORT_LOGGER`): what
    every tool does before its work (:func:`exit_on_user_error` calls it)."""
    logger = report_logger()
    if not any(isinstance(h, _ConsoleHandler) for h in logger.handlers):
        logger.addHandler(_ConsoleHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def print_errors(messages) -> None:
    """Print one ``error:`` line per message on stderr."""
    for message in messages:
        print(f'error: {message}', file=sys.stderr, flush=True)


#: The package's API parameters and the flags every tool spells them with.
#: Package errors name a parameter as ``name='value'``, ``name=3`` or
#: ``name=True`` (a name with an underscore also bare, ``num_calib``);
#: :func:`in_flags` turns that into ``--flag value`` on the command line.
API_FLAGS = {
    'onnx_file': '--onnx',
    'backend': '--backend',
    'precision': '--precision',
    'device': '--device',
    'deploy': '--deploy',
    'num_threads': '--threads',
    'no_detect': '--no-detect',
    'return_maps': '--show-heads',
    'recursive': '--recursive',
    'overwrite': '--overwrite',
    'calib_dir': '--calib-dir',
    'calib_split': '--calib-split',
    'calib_method': '--calib-method',
    'num_calib': '--num-calib',
    'min_agreement': '--min-agreement',
    'threads': '--threads',
    'resume': '--resume',
    'allow_config_mismatch': '--allow-config-mismatch',
}
_API_VALUE = re.compile(
    r"(?<![\w.-])(%s)=(?:'([^']*)'|True\b|(-?\d[\w.+-]*\w|-?\d))" %
    '|'.join(API_FLAGS))
_API_NAME = re.compile(r"(?<![\w.'`-])(%s)(?![\w'`=])" %
                       '|'.join(name for name in API_FLAGS if '_' in name))
#: Config settings as the package names them, ``cfg.a.b=value`` (several in
#: a row are one ``--cfg-options a.b=value c.d=value``).
_CFG_SETTINGS = re.compile(
    r'\bcfg\.([\w.]+=[^\s,;)]*(?: cfg\.[\w.]+=[^\s,;)]*)*)')


def in_flags(message: str) -> str:
    """A package error message as the command line says it: each
    ``name='value'`` (or ``name=3``) of :data:`API_FLAGS` becomes ``--flag
    value``, ``name=True`` and a bare ``long_name`` become ``--flag``, and
    config settings ``cfg.a.b=value`` become ``--cfg-options a.b=value``."""

    def flag(match: re.Match) -> str:
        name, text, number = match.groups()
        value = text if number is None else number
        return API_FLAGS[name] + ('' if value is None else f' {value}')

    def cfg_options(match: re.Match) -> str:
        return '--cfg-options ' + re.sub(r'\bcfg\.(?=[\w.]+=)', '',
                                         match.group(1))

    # config keys last: a top-level key (cfg.resume=True) looks like an API
    # parameter once its cfg. is gone
    message = _API_VALUE.sub(flag, message)
    message = _API_NAME.sub(lambda match: API_FLAGS[match[1]], message)
    return _CFG_SETTINGS.sub(cfg_options, message)


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with each option's default, e.g. ``(default: 8)``, the
    one help format of every tool.

    Unlike argparse's own formatter, it adds nothing where the default says
    nothing (None, False: a switch that is off) or where the help already
    tells it (``default: the config's``)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_ = action.help or ''
        if action.default in (None, False, argparse.SUPPRESS) or \
                'default' in help_:
            return help_
        return super()._get_help_string(action)


def print_note(message: Optional[str]) -> None:
    """Print ``note: <message>`` (if there is one), as the tools print a
    model's notice (:func:`dan_mm.inference.model_notice`)."""
    if message:
        print(f'note: {message}', flush=True)


def add_tensorboard_argument(parser: argparse.ArgumentParser) -> None:
    """``--tensorboard``: see
    :func:`dan_mm.engine.run_config.enable_tensorboard`."""
    parser.add_argument(
        '--tensorboard',
        action='store_true',
        help='also log to TensorBoard (work_dir/<timestamp>/vis_data): '
        'scalars, the confusion matrix and attention panels of a few images')


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


def add_config_mismatch_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--allow-config-mismatch``: run a checkpoint with a config other
    than its training config (:mod:`dan_mm.utils.checkpoint_config`)."""
    parser.add_argument(
        '--allow-config-mismatch',
        action='store_true',
        help='run the checkpoint even if its training config has another '
        'input size, mean/std or class order than the config given '
        '(results are likely wrong)')


def add_precision_argument(parser: argparse.ArgumentParser,
                           default: str = 'fp32') -> None:
    """Add ``--precision {fp32,fp16,bf16}``, the one spelling of inference
    precision in every tool (autocast; see :mod:`dan_mm.utils.precision`).
    """
    parser.add_argument(
        '--precision',
        choices=list(PRECISION_NAMES),
        default=default,
        help='autocast precision (bf16 is fast only on CPUs with '
        f'AVX512-BF16/AMX and on GPUs; default: {default})')


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
        show_report()
        try:
            return main(*args, **kwargs)
        except UserError as err:
            if debug_enabled():
                raise
            message = in_flags(one_line(err))
            # A torchelastic worker records it for the launcher
            # (dan_mm.engine.torchrun), which prints it once for all ranks.
            if not (record_user_error(message) and launched_here()):
                print_errors([message])
            sys.exit(err.exit_code)
        except Exception:
            # Another rank stopped on a user error, and this one failed
            # because that peer left: the peer's error is the one to show.
            if not debug_enabled() and peer_user_error() is not None:
                sys.exit(1)
            raise

    return wrapper


@contextlib.contextmanager
def naming_checkpoint(checkpoint: Optional[str]):
    """Name the checkpoint in the errors of loading it.

    The model refuses a checkpoint of another shape while loading its state
    dict, where the file name is unknown. (A damaged file, or one that is no
    checkpoint, is named by the loader: :func:`load_checkpoint_file`.)

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


def check_checkpoint_file(checkpoint: Optional[str],
                          what: Optional[str] = None) -> None:
    """Stop early when a local checkpoint path does not exist.

    Args:
        checkpoint (str, optional): A path or URL; URLs and None pass.
        what (str, optional): Where it comes from, for the message
            (``'--resume'``).

    Raises:
        CheckpointNotFoundError: A local path that is not a file.
    """
    if checkpoint and '://' not in str(
            checkpoint) and not osp.isfile(checkpoint):
        where = f' ({what})' if what else ''
        raise CheckpointNotFoundError(
            f'checkpoint not found: {checkpoint}{where}')


def check_files_exist(config: Optional[str] = None,
                      checkpoint: Optional[str] = None,
                      inputs: Sequence[str] = (),
                      camera: bool = False) -> None:
    """Stop on a missing config, checkpoint or input before torch loads.

    The same errors as the full checks (:func:`dan_mm.utils.config.
    load_config`, :func:`check_checkpoint_file`, ``check_source``) that
    follow, a few seconds sooner.

    Args:
        config (str, optional): A config file.
        checkpoint (str, optional): A checkpoint path or URL.
        inputs (Sequence[str]): Input paths.
        camera (bool): Whether a digit that is no file is a camera index.

    Raises:
        ConfigError: The config file does not exist.
        CheckpointNotFoundError: The local checkpoint does not exist.
        InputNotFoundError: An input does not exist.
    """
    if config is not None and not osp.isfile(config):
        raise ConfigError(f'config file not found: {config}')
    check_checkpoint_file(checkpoint)
    for path in inputs:
        if not osp.exists(path) and not (camera and str(path).isdigit()):
            raise InputNotFoundError(f'input not found: {path}')
