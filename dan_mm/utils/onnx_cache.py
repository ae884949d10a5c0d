"""The folder of cached ONNX exports: where it is, how full it may get, and
how to empty it.

A video on the CPU runs the deploy model exported to ONNX once per
checkpoint (about 66 MB for DAN-R18), kept for the next runs. The folder
keeps the :func:`onnx_cache_keep` most recently used exports and deletes
older ones after each new export; :func:`clear_onnx_cache` empties it
(``python tools/infer.py --clear-onnx-cache``). Standard library only: the
tools' command line uses it before torch is imported.
"""
import glob
import os
import os.path as osp
import time
from typing import List, Tuple

from .cli import report_logger
from .errors import ConfigError

CACHE_ENV = 'DAN_MM_ONNX_CACHE'
KEEP_ENV = 'DAN_MM_ONNX_CACHE_KEEP'
DEFAULT_KEEP = 4
# A half-written export (``<file>.<pid>.partial``) older than this was left
# by a process that died.
STALE_PARTIAL_S = 24 * 3600


def onnx_cache_dir() -> str:
    """``$DAN_MM_ONNX_CACHE``, else ``~/.cache/dan_mm/onnx``."""
    return os.environ.get(CACHE_ENV) or osp.join(
        osp.expanduser('~'), '.cache', 'dan_mm', 'onnx')


def onnx_cache_keep() -> int:
    """How many exports the cache keeps: ``$DAN_MM_ONNX_CACHE_KEEP``, else
    :data:`DEFAULT_KEEP`.

    Raises:
        ConfigError: The variable is not an integer >= 1.
    """
    text = os.environ.get(KEEP_ENV, '').strip()
    if not text:
        return DEFAULT_KEEP
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f'{KEEP_ENV}={text}: give the number of ONNX '
                          'exports to keep, an integer >= 1')
    return int(text)


def cached_exports(cache_dir: str = None) -> List[str]:
    """The ``.onnx`` files of the cache, most recently used first."""
    files = glob.glob(osp.join(cache_dir or onnx_cache_dir(), '*.onnx'))
    return sorted(files, key=osp.getmtime, reverse=True)


def mark_used(path: str) -> None:
    """Record a cached export as just used (its modification time: access
    times are often not kept)."""
    try:
        os.utime(path)
    except OSError:  # gone, or a read-only cache: nothing to record
        pass


def prune_onnx_cache(keep: int = None, cache_dir: str = None) -> List[str]:
    """Delete all but the ``keep`` most recently used exports, and
    half-written ones left by a process that died.

    Args:
        keep (int, optional): Exports to keep. Defaults to
            :func:`onnx_cache_keep`.
        cache_dir (str, optional): Defaults to :func:`onnx_cache_dir`.

    Returns:
        list[str]: The deleted files.
    """
    cache_dir = cache_dir or onnx_cache_dir()
    keep = onnx_cache_keep() if keep is None else keep
    old = cached_exports(cache_dir)[keep:]
    now = time.time()
    old += [
        path for path in glob.glob(osp.join(cache_dir, '*.partial'))
        if now - osp.getmtime(path) > STALE_PARTIAL_S
    ]
    removed = []
    for path in old:
        try:
            os.remove(path)
            removed.append(path)
        except OSError:  # another process pruned it first
            pass
    return removed


def clear_onnx_cache(cache_dir: str = None) -> Tuple[int, int]:
    """Delete every cached export (they are made again when needed).

    Args:
        cache_dir (str, optional): Defaults to :func:`onnx_cache_dir`.

    Returns:
        tuple[int, int]: Files deleted and their bytes.
    """
    files = bytes_ = 0
    for path in cached_exports(cache_dir):
        try:
            size = osp.getsize(path)
            os.remove(path)
        except OSError:
            continue
        files, bytes_ = files + 1, bytes_ + size
    return files, bytes_


def note_new_export(path: str, first: bool) -> None:
    """After an export into the cache: prune it, and the first time (an
    empty cache) say where the file went and how to clear it, on the
    report logger (:func:`dan_mm.utils.cli.report_logger`).

    Args:
        path (str): The new export.
        first (bool): Whether the cache folder was empty before.
    """
    removed = prune_onnx_cache(cache_dir=osp.dirname(path))
    log = report_logger()  # the tools print it
    if first:
        log.info(
            f'note: the deploy model was exported to ONNX once for this '
            f'checkpoint ({osp.getsize(path) / 2**20:.0f} MB), kept for the '
            f'next runs in {osp.dirname(path)} with the {onnx_cache_keep()} '
            'most recently used exports; clear them with "python '
            'tools/infer.py --clear-onnx-cache" ('
            f'dan_mm.utils.onnx_cache.clear_onnx_cache()); {CACHE_ENV}=DIR '
            'moves the folder')
    if removed:
        log.info(f'note: removed {len(removed)} older ONNX export(s) from '
                 f'{osp.dirname(path)}')
