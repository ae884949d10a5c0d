"""A checkpoint URL as a local dan_mm checkpoint: downloaded and converted
once, then read from the cache without a request.

Two processes that ask at once (the ranks of a distributed run) take a file
lock: one downloads and converts, the others wait and read its result.
"""
import os
import os.path as osp
from typing import Optional
from urllib.parse import urlparse

import torch
from filelock import FileLock

from ..utils.checkpoint import load_checkpoint_file
from ..utils.reference_layout import as_dan_mm_checkpoint
from .download import download_file
from .home import HOME_ENV, checkpoint_dir
from .integrity import check_sha256, is_recorded
from .released import BAIDU_KEY, BAIDU_MIRROR, released_file

CONVERTED_SUFFIX = '.dan_mm.pth'


def cache_file_name(url: str) -> str:
    """The name a URL's file has in the cache: the released file's name
    for the authors' Drive files, else the URL's last path part."""
    released = released_file(url)
    if released is not None:
        return released.file
    name = osp.basename(urlparse(url).path)
    return name or 'checkpoint.pth'


def manual_route(url: str, dest: str) -> str:
    """How to get a file by hand: the URL, the Baidu mirror for the
    authors' files, and where to put it."""
    mirror = ''
    if released_file(url) is not None:
        mirror = f' or the Baidu mirror {BAIDU_MIRROR} (key {BAIDU_KEY})'
    return (f'download {osp.basename(dest)} by hand from {url}{mirror} and '
            f'put it at {dest} (the cache; ${HOME_ENV} moves it), or give '
            'its path as the checkpoint')


def converted_path(path: str) -> str:
    """Where the dan_mm copy of a downloaded file is kept."""
    return osp.splitext(path)[0] + CONVERTED_SUFFIX


def cached_checkpoint(url: str,
                      dataset_meta: Optional[dict] = None,
                      progress: bool = True,
                      cache_dir: Optional[str] = None) -> str:
    """The local dan_mm checkpoint of ``url``, fetched once.

    A file in the DAN authors' layout is converted and the converted copy
    kept (``<name>.dan_mm.pth``), so later calls send no request and load
    it directly; a file in dan_mm's layout is used as downloaded. A file
    put into the cache by hand (offline, from the Baidu mirror) is taken
    as if downloaded.

    Args:
        url (str): A Google Drive or other http(s) URL.
        dataset_meta (dict, optional): Saved into a converted copy's
            ``meta`` (the classes of a named model).
        progress (bool): Show the download's progress bar.
        cache_dir (str, optional): Defaults to
            :func:`dan_mm.zoo.checkpoint_dir`.

    Returns:
        str: Path of a checkpoint in dan_mm's layout.

    Raises:
        CheckpointDownloadError: The download failed (one line naming the
            URL, the mirror and where to put the file).
        CheckpointError: The downloaded file cannot be read.
    """
    folder = cache_dir or checkpoint_dir()
    raw = osp.join(folder, cache_file_name(url))
    converted = converted_path(raw)
    if osp.isfile(converted):
        return converted
    os.makedirs(folder, exist_ok=True)
    with FileLock(raw + '.lock'):
        if osp.isfile(converted):  # another process made it meanwhile
            return converted
        downloaded = not osp.isfile(raw)
        if downloaded:
            download_file(url, raw, manual_route(url, raw), progress)
        if downloaded or not is_recorded(raw):  # new, or put here by hand
            check_sha256(raw)
        checkpoint = load_checkpoint_file(raw, map_location='cpu', source=url)
        dan_mm_checkpoint = as_dan_mm_checkpoint(checkpoint, url)
        if dan_mm_checkpoint is checkpoint:
            return raw  # dan_mm's (or another library's) layout already
        meta = dan_mm_checkpoint['meta']
        meta['source'] = url
        if dataset_meta:
            meta['dataset_meta'] = dict(dataset_meta)
        tmp = f'{converted}.{os.getpid()}.tmp'
        torch.save(dan_mm_checkpoint, tmp)
        os.replace(tmp, converted)
    return converted


def fetch_released_file(path: str) -> Optional[str]:
    """Fetch a file of the authors' release that a config names, if absent.

    For ``checkpoints/resnet18_msceleb.pth`` (the FCN's start in
    ``configs/_base_/models/dan_r18.py``): the file in the cache,
    downloaded from the authors' Google Drive once. In a distributed run
    every rank calls this; the cache's lock lets one download.

    Args:
        path (str): The missing file a config names.

    Returns:
        str | None: The cached copy, or None when ``path`` is not a file of
        the authors' release.

    Raises:
        CheckpointDownloadError: The download failed.
    """
    released = released_file(osp.basename(str(path)))
    if released is None:
        return None
    return cached_checkpoint(released.url, progress=os.isatty(2))
