"""The SHA-256 of every downloaded file, recorded the first time.

The authors publish no checksums, so the first copy's hash is kept in
``<checkpoint_dir>/sha256.json``; a later copy with another hash (the file
was replaced upstream, or damaged) is logged as one warning line.
"""
import hashlib
import json
import os
import os.path as osp

from ..utils.cli import report_logger

RECORD_FILE = 'sha256.json'


def sha256sum(path: str) -> str:
    """The SHA-256 of a file, as hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _record(record_path: str) -> dict:
    if osp.isfile(record_path):
        try:
            with open(record_path, encoding='utf-8') as f:
                return json.load(f)
        except (OSError, ValueError):
            pass
    return {}


def is_recorded(path: str) -> bool:
    """Whether the SHA-256 of the file named ``path`` is on record."""
    record = _record(osp.join(osp.dirname(path), RECORD_FILE))
    return osp.basename(path) in record


def check_sha256(path: str) -> str:
    """Record the SHA-256 of ``path``, or compare it with the record.

    Call it with the cache's lock held (the record is read, changed and
    written back).

    Args:
        path (str): A file in the cache folder.

    Returns:
        str: Its SHA-256.
    """
    record_path = osp.join(osp.dirname(path), RECORD_FILE)
    record = _record(record_path)
    name = osp.basename(path)
    digest = sha256sum(path)
    known = record.get(name)
    if known is None:
        record[name] = digest
        tmp = f'{record_path}.{os.getpid()}.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(record, f, indent=1, sort_keys=True)
        os.replace(tmp, record_path)
    elif known != digest:
        report_logger().warning(
            '%s differs from the copy first downloaded (SHA-256 %s, recorded '
            '%s in %s): the file was replaced upstream or is damaged', path,
            digest[:12], known[:12], record_path)
    return digest
