"""``torchrun`` that reports a user error of any worker as one line.

``python -m dan_mm.engine.torchrun`` takes torchrun's arguments
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
import logging
import os
import sys
from typing import List, Optional, Sequence

from ..utils.cli import print_errors
from ..utils.errors import debug_enabled
from ..utils.worker_errors import LAUNCHER_ENV, user_error_of


def user_error_messages(failures: dict) -> List[str]:
    """Distinct messages of the failed workers that recorded user errors,
    in rank order (``ChildFailedError.failures``: rank -> failure)."""
    messages = []
    for rank in sorted(failures):
        error_file = getattr(failures[rank], 'error_file', '')
        message = user_error_of(error_file) if error_file else None
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
        print_errors(messages)
        sys.exit(1)


if __name__ == '__main__':
    main()
