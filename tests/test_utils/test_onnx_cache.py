"""The ONNX export cache keeps the most recently used exports, says where
the first one went, and can be emptied (before torch loads)."""
import logging
import os
import subprocess
import sys
import time

import pytest

from dan_mm.utils.cli import REPORT_LOGGER
from dan_mm.utils.errors import ConfigError
from dan_mm.utils.onnx_cache import (CACHE_ENV, KEEP_ENV, STALE_PARTIAL_S,
                                     cached_exports, clear_onnx_cache,
                                     mark_used, note_new_export,
                                     onnx_cache_keep, prune_onnx_cache)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / 'cache'))
    monkeypatch.delenv(KEEP_ENV, raising=False)
    (tmp_path / 'cache').mkdir()
    return tmp_path / 'cache'


def make_exports(cache, count):
    """``count`` fake exports, the first the oldest."""
    now = time.time()
    paths = []
    for i in range(count):
        path = cache / f'{i:016x}-112.onnx'
        path.write_bytes(b'x' * 1000)
        os.utime(path, (now - 100 + i, now - 100 + i))
        paths.append(path)
    return paths


def test_prune_keeps_the_most_recently_used(cache, monkeypatch):
    paths = make_exports(cache, 6)
    mark_used(str(paths[0]))  # the oldest export was just used again
    monkeypatch.setenv(KEEP_ENV, '3')
    removed = prune_onnx_cache()
    assert sorted(removed) == sorted(str(p) for p in paths[1:4])
    assert cached_exports() == [str(paths[0]), str(paths[5]), str(paths[4])]


def test_prune_removes_stale_partial_files_only(cache):
    stale, fresh = cache / 'a.onnx.1.partial', cache / 'b.onnx.2.partial'
    for path in (stale, fresh):
        path.write_bytes(b'x')
    old = time.time() - STALE_PARTIAL_S - 60
    os.utime(stale, (old, old))
    assert prune_onnx_cache() == [str(stale)]
    assert fresh.exists()


def test_clear_empties_the_cache(cache):
    make_exports(cache, 3)
    assert clear_onnx_cache() == (3, 3000)
    assert cached_exports() == []


@pytest.fixture
def report(caplog):
    """The report logger's records (the tools set it not to propagate)."""
    logger = logging.getLogger(REPORT_LOGGER)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # each record once
    yield caplog
    logger.removeHandler(caplog.handler)
    logger.setLevel(level)
    logger.propagate = propagate


def test_first_export_says_where_and_how_to_clear(cache, report):
    caplog = report
    (path, ) = make_exports(cache, 1)
    note_new_export(str(path), first=True)
    (record, ) = caplog.records
    assert record.name == REPORT_LOGGER  # the tools print it
    message = record.getMessage()
    assert message.startswith('note: the deploy model was exported')
    assert str(cache) in message and '--clear-onnx-cache' in message
    caplog.clear()
    make_exports(cache, 5)
    note_new_export(str(path), first=False)  # later exports: quiet...
    (record, ) = caplog.records  # ... but for what was pruned
    assert record.getMessage().startswith('note: removed 1 older ONNX')
    assert len(cached_exports()) == onnx_cache_keep() == 4


@pytest.mark.parametrize('value', ['0', 'many', '-1'])
def test_bad_keep_is_a_config_error(monkeypatch, value):
    monkeypatch.setenv(KEEP_ENV, value)
    with pytest.raises(ConfigError, match=KEEP_ENV):
        onnx_cache_keep()


def test_infer_clear_flag_needs_no_model_and_no_torch(cache):
    make_exports(cache, 2)
    proc = subprocess.run([
        sys.executable, '-X', 'importtime', 'tools/infer.py',
        '--clear-onnx-cache'
    ],
                          cwd=os.path.dirname(
                              os.path.dirname(os.path.dirname(__file__))),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f'removed 2 ONNX export(s), 0 MB, from ' \
        f'{cache}'
    assert not list(cache.iterdir())
    assert '| torch\n' not in proc.stderr
