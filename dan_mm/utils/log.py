"""Quieter mmengine logging where it only adds noise."""
import logging
from contextlib import contextmanager
from typing import Iterator

from mmengine.logging import MMLogger


@contextmanager
def quiet_mmengine_log(level: int = logging.WARNING) -> Iterator[None]:
    """Lower mmengine's current logger to ``level`` inside the block.

    ``init_weights()`` logs every parameter's initialisation (about 600
    lines for DAN-R18) through that logger, before a 3-line table.
    """
    logger = MMLogger.get_current_instance()
    old = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old)
