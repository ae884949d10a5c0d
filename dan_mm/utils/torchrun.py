"""``torchrun`` that reports a user error of any worker as one line.

``python -m dan_mm.utils.torchrun`` takes torchrun's arguments
(``tools/dist_train.sh`` and ``tools/dist_test.sh`` use it). When a worker
stops on a :class:`~dan_mm.utils.errors.UserError`, plain torchrun prints a
``ChildFailedError`` traceback with a table of failed ranks, and every
failing rank prints its own line. Here:

- the worker records the error in torchelastic's per-worker error file
  (``TORCHELASTIC_ERROR_FILE``, JSON in torchelastic's format, marked as a
  user error) and exits with status 1 without printing;
- a worker that then fails only because that peer left (e.g. gloo's
  "Connection closed by peer" in a collective) sees the marked file of its
  sibling and exits with status 1 quietly, instead of with a traceback;
- this launcher catches torchelastic's ``ChildFailedError``, prints each
  distinct recorded message once as ``error: <message>`` and exits with 1.

Any other failure is re-raised as torchrun does; ``--debug`` on the tool or
``DAN_MM_DEBUG=1`` keeps every traceback. Under plain torchrun the workers
still record the error (torchrun's failure table shows it) and print their
``error:`` lines themselves.
"""
import glob
import json
import logging
import os
import os.path as osp
import sys
import time
import traceback
from typing import List, Optional, Sequence

from .errors import debug_enabled

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


def _user_error_of(path: str) -> Optional[str]:
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
            message = _user_error_of(path)
            if message is not None:
                return message
    return None


def user_error_messages(failures: dict) -> List[str]:
    """Distinct messages of the failed workers that recorded user errors,
    in rank order (``ChildFailedError.failures``: rank -> failure)."""
    messages = []
    for rank in sorted(failures):
        error_file = getattr(failures[rank], 'error_file', '')
        message = _user_error_of(error_file) if error_file else None
        if message is not None and message not in messages:
            messages.append(message)
    return messages


class _HoldRecords(logging.Handler):
    """Keeps log records to emit later, or not at all."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run torchrun with ``argv`` (default: the command line)."""
    from torch.distributed.elastic.multiprocessing.errors import \
        ChildFailedError
    from torch.distributed.run import parse_args, run

    os.environ[LAUNCHER_ENV] = '1'
    args = parse_args(argv)
    # torchelastic logs each failed worker and the SIGTERM it sends the
    # others; after a user error that is noise around the one line, so hold
    # those records and emit them only if torchrun's own report follows.
    elastic_logger = logging.getLogger('torch.distributed.elastic')
    held, propagate = _HoldRecords(), elastic_logger.propagate
    elastic_logger.addHandler(held)
    elastic_logger.propagate = False
    messages = []
    try:
        run(args)
    except ChildFailedError as err:
        messages = [] if debug_enabled() else user_error_messages(err.failures)
        if not messages:
            raise
    finally:
        elastic_logger.removeHandler(held)
        elastic_logger.propagate = propagate
        if not messages:
            for record in held.records:
                elastic_logger.handle(record)
    if messages:
        for message in messages:
            print(f'error: {message}', file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == '__main__':
    main()
