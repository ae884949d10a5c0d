"""Quieter mmengine logging where it only adds noise."""
import contextlib
import io
import logging
import sys
from typing import Iterator

from mmengine.logging import MMLogger

# mmengine prints it (print(), not its logger: mmpretrain loads with
# logger=None) each time a model loads, on every run of every tool.
CHECKPOINT_LOADED_PREFIX = 'Loads checkpoint by '


class _DropLines(io.TextIOBase):
    """A text stream that passes every line on to ``stream`` except those
    that start with ``prefix``."""

    def __init__(self, stream, prefix: str) -> None:
        self.stream, self.prefix, self.pending = stream, prefix, ''

    def write(self, text: str) -> int:
        lines = (self.pending + text).split('\n')
        self.pending = lines.pop()
        for line in lines:
            if not line.startswith(self.prefix):
                self.stream.write(line + '\n')
        return len(text)

    def flush(self) -> None:
        if self.pending and not self.pending.startswith(self.prefix):
            self.stream.write(self.pending)
        self.pending = ''
        self.stream.flush()


@contextlib.contextmanager
def quiet_mmengine_log(level: int = logging.WARNING) -> Iterator[None]:
    """Lower mmengine's current logger to ``level`` inside the block, and
    drop its line "Loads checkpoint by local backend from path: ..." from
    stdout. Warnings still show.

    ``init_weights()`` logs every parameter's initialisation (about 600
    lines for DAN-R18) through that logger, before a 3-line table.
    """
    logger = MMLogger.get_current_instance()
    old = logger.level
    logger.setLevel(level)
    stdout = _DropLines(sys.stdout, CHECKPOINT_LOADED_PREFIX)
    try:
        with contextlib.redirect_stdout(stdout):
            yield
    finally:
        stdout.flush()
        logger.setLevel(old)
