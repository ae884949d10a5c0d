"""A distributed worker's user error, recorded for ``dan_mm.engine.torchrun``.

The worker writes its one-line :class:`~dan_mm.utils.errors.UserError`
into torchelastic's per-worker error file (``TORCHELASTIC_ERROR_FILE``,
JSON in torchelastic's format, marked as a user error); a sibling that then
fails only because that peer left reads it and exits quietly. The launcher
(:mod:`dan_mm.engine.torchrun`) prints each recorded message once.
"""
import glob
import json
import os
import os.path as osp
import time
import traceback
from typing import Optional

LAUNCHER_ENV = 'DAN_MM_TORCHRUN'
ERROR_FILE_ENV = 'TORCHELASTIC_ERROR_FILE'
USER_ERROR_KEY = 'dan_mm_user_error'


def launched_here() -> bool:
    """Whether this process is a worker of this launcher."""
    return os.environ.get(LAUNCHER_ENV) == '1' and bool(
        os.environ.get(ERROR_FILE_ENV))


def record_user_error(message: str) -> bool:
    """Write ``message`` into this worker's torchelastic error file.

    Args:
        message (str): The one-line message.

    Returns:
        bool: Whether there was an error file to write (a torchelastic
        worker).
    """
    path = os.environ.get(ERROR_FILE_ENV)
    if not path:
        return False
    data = {
        'message': {
            'message': message,
            'extraInfo': {
                'py_callstack': traceback.format_exc(),
                'timestamp': str(int(time.time())),
                USER_ERROR_KEY: True,
            },
        }
    }
    with open(path, 'w') as f:
        json.dump(data, f)
    return True


def user_error_of(path: str) -> Optional[str]:
    """The message of a marked error file, or None."""
    try:
        with open(path) as f:
            data = json.load(f)
        message = data['message']
        if message['extraInfo'].get(USER_ERROR_KEY):
            return message['message']
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def peer_user_error() -> Optional[str]:
    """The user error a sibling worker of this node recorded, if any.

    torchelastic gives each worker ``<attempt dir>/<local rank>/error.json``.
    """
    own = os.environ.get(ERROR_FILE_ENV)
    if not own:
        return None
    attempt_dir = osp.dirname(osp.dirname(own))
    for path in sorted(glob.glob(osp.join(attempt_dir, '*', 'error.json'))):
        if osp.abspath(path) != osp.abspath(own):
            message = user_error_of(path)
            if message is not None:
                return message
    return None
