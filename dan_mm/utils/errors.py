"""The errors a user can cause and fix, in one place.

Every error here derives from :class:`UserError`. The command-line tools
print such an error as one line, ``error: <what, where, how to fix>``, and
exit with the error's ``exit_code``, 1 unless a class says otherwise
(:func:`dan_mm.utils.cli.exit_on_user_error`); anything else is a
bug and keeps its traceback. ``--debug`` on any tool, or ``DAN_MM_DEBUG=1``
in the environment, shows the traceback of user errors too.

Each message must stand alone on one line: name the file, line, key or
value at fault and say how to fix it.

The classes also derive from the built-in exception a Python caller would
expect (``ValueError``, ``FileNotFoundError``), so ``except ValueError``
keeps working. They take a single message argument: PyTorch re-creates an
exception raised in a data-loader worker from its message alone.
"""
import os

DEBUG_ENV = 'DAN_MM_DEBUG'


def debug_enabled() -> bool:
    """Whether ``--debug`` or ``DAN_MM_DEBUG=1`` asked for tracebacks."""
    return os.environ.get(DEBUG_ENV,
                          '').strip().lower() not in ('', '0', 'false', 'no',
                                                      'off')


TRUST_ENV = 'DAN_MM_TRUST_CHECKPOINTS'
TRUST_FLAG = '--trust-checkpoint'


def trust_checkpoints(trust: bool = True) -> None:
    """Load checkpoints in full (``weights_only=False``) from now on.

    Only for files you trust: unpickling runs any code a file names. Sets
    ``DAN_MM_TRUST_CHECKPOINTS`` in the environment, so that data-loader
    workers, the other ranks of a distributed run and tools started from
    this process trust them too.

    Args:
        trust (bool): True to trust checkpoints, False to go back to the
            allow-list. Defaults to True.
    """
    if trust:
        os.environ[TRUST_ENV] = '1'
    else:
        os.environ.pop(TRUST_ENV, None)


def checkpoints_trusted() -> bool:
    """Whether ``DAN_MM_TRUST_CHECKPOINTS`` (or ``--trust-checkpoint``, or
    :func:`trust_checkpoints`) asked to load checkpoints in full."""
    return os.environ.get(TRUST_ENV,
                          '').strip().lower() not in ('', '0', 'false', 'no',
                                                      'off')


class UserError(Exception):
    """Base class of the errors a user can fix: bad input, config or file.

    Attributes:
        exit_code (int): The tools' exit status for this error (1; a
            subclass may document another).
    """

    exit_code = 1


class ConfigError(UserError, ValueError):
    """A config key or value that cannot work; the message names the key."""


class NumClassesMismatchError(ConfigError):
    """The config's ``num_classes`` and the data set's classes disagree."""


class DataError(UserError, ValueError):
    """A data root, label file, CSV or manifest that cannot be read as
    asked; the message names the file (and line, where there is one)."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data root, label file or listed image that does not exist; the
    message names the path and where it was expected."""


class OutputExistsError(UserError, FileExistsError):
    """A tool that writes data found its output already there (another
    run's); the message names the file or folder and the fix."""


class OutputDirError(UserError, OSError):
    """A folder to write results to that cannot be used: a file of that
    name exists, or it cannot be created or written (permissions, a
    read-only disk); the message names the folder and the parameter."""


class DisplayError(UserError, RuntimeError):
    """Showing frames in a window was asked for, but there is no display
    to open one on (a server, SSH without X forwarding, an OpenCV built
    without a GUI); the message says why and what to do instead."""


class ListenError(UserError, OSError):
    """A server cannot listen on the address and port asked for (in use,
    not an address of this machine, or a port that needs privileges)."""


class InputError(UserError, ValueError):
    """An input to inference (image, folder, video, camera) that cannot be
    opened or used."""


class UnreadableImageError(DataError, InputError):
    """An image file that cannot be decoded (missing, empty, damaged, too
    many pixels); the message names the file. One error for training data
    and inference input alike: both read images with
    :func:`dan_mm.utils.image_io.decode_image`."""


class InputNotFoundError(InputError, FileNotFoundError):
    """An input to inference (image, folder, video) that does not exist."""


class NoFaceFoundError(InputError):
    """Inference found no face in the whole input; ``tools/infer.py`` exits
    with status 2 for it (documented), so scripts can tell it apart."""

    exit_code = 2


class CheckpointError(UserError, ValueError):
    """A checkpoint file that cannot be loaded as asked."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A checkpoint file or URL that does not exist."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint was saved for another model: another num_classes,
    num_heads or form (deploy vs training) than the config builds."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint that needs more than the allow-listed types to unpickle
    (it could run code); loading it needs the user's explicit opt-in."""


class CheckpointDownloadError(CheckpointError):
    """Weights that could not be downloaded (offline, a refused or cut-off
    download, a web page instead of the file); the message names the URL,
    where else to get the file and where to put it."""


class PretrainedNotFoundError(UserError, FileNotFoundError):
    """A pretrained-weights file that the config starts from is missing."""


class DeviceError(UserError, ValueError):
    """A ``--device`` / ``device=`` that is malformed or not on this machine
    (e.g. ``cuda:0`` without CUDA); the message says which devices exist."""


class MissingExtraError(UserError, ImportError):
    """An optional feature's packages (an install extra) are not installed;
    the message names the pip command that installs them."""


def one_line(err: BaseException) -> str:
    """The message of ``err`` as one line, without wrapping added on the way.

    PyTorch's data loader re-raises an error from a worker process with the
    worker's whole traceback in the message ("Caught X in DataLoader worker
    process 0. Original Traceback ..."); the original message is that
    traceback's last line, after the exception's name.

    Args:
        err (BaseException): The error.

    Returns:
        str: The message on one line.
    """
    message = str(err).strip()
    if message.startswith('Caught ') and '\nOriginal Traceback' in message:
        last = message.splitlines()[-1]
        name = type(err).__name__
        for prefix in (f'{type(err).__module__}.{name}: ', f'{name}: '):
            if last.startswith(prefix):
                last = last[len(prefix):]
                break
        message = last
    return ' '.join(message.split('\n'))
