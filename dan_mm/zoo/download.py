"""Download one file with gdown, never leaving a partial file or a web page
where a later run would take it for the weights.

gdown (pinned in requirements/runtime.txt) gets past Google Drive's
confirmation page and shows a progress bar; any other http(s) URL downloads
as it is. The file is written into a temporary folder beside its
destination, checked to be a PyTorch checkpoint (a zip archive with its
end, or a pickle), then renamed into place in one step.
"""
import os
import os.path as osp
import shutil
import tempfile
from typing import Optional, Tuple

import gdown
import requests
from gdown.exceptions import DownloadError, FileURLRetrievalError

from ..utils.checkpoint import not_a_checkpoint
from ..utils.errors import CheckpointDownloadError

# (connect, read) seconds: a silent server or network ends the download
# instead of hanging; a slow one keeps going as long as bytes arrive.
TIMEOUT: Tuple[float, float] = (15.0, 60.0)
RETRIES = 1


class NotACheckpointDownloaded(Exception):
    """What came was no PyTorch checkpoint (a quota or sign-in page)."""


def _reason(err: BaseException, timeout: Tuple[float, float]) -> str:
    """What went wrong, in a few words."""
    if isinstance(err.__cause__, requests.exceptions.RequestException):
        err = err.__cause__  # gdown's "failed after N retries"
    if isinstance(err, requests.exceptions.Timeout):
        return f'no answer within {max(timeout):g} s'
    if isinstance(err, requests.exceptions.ConnectionError):
        return 'no connection: offline, or the host is unreachable'
    if isinstance(err, requests.exceptions.HTTPError):
        return f'the server answered {err.response.status_code}' \
            if err.response is not None else 'refused by the server'
    if isinstance(err, FileURLRetrievalError):
        return ('Google Drive answered with a page instead of the file: its '
                '"too many users" quota or a sign-in page; try later')
    text = ' '.join(str(err).split())
    if isinstance(err, DownloadError) and ('incomplete' in text
                                           or 'byte range' in text):
        # gdown's retry could not resume the cut-off transfer either
        return 'incomplete: the transfer stopped before the whole file came'
    if len(text) > 160:
        text = text[:157] + '...'
    return f'{type(err).__name__}: {text}' if text else type(err).__name__


def download_file(url: str,
                  dest: str,
                  manual: Optional[str] = None,
                  progress: bool = True,
                  timeout: Tuple[float, float] = TIMEOUT) -> str:
    """Download ``url`` to ``dest``, whole and checked, or not at all.

    Args:
        url (str): A Google Drive or any http(s) URL.
        dest (str): The file to write (its folder is created).
        manual (str, optional): How to get the file by hand, appended to
            the error message. Defaults to "download it yourself and put it
            at ``dest``".
        progress (bool): Show gdown's progress bar. Defaults to True.
        timeout (tuple[float, float]): Connect and read timeouts in
            seconds. Defaults to :data:`TIMEOUT`.

    Returns:
        str: ``dest``.

    Raises:
        CheckpointDownloadError: Offline, refused, timed out, cut short, or
            not a checkpoint (e.g. Drive's quota page); nothing is left at
            ``dest``.
    """
    folder = osp.dirname(osp.abspath(dest))
    os.makedirs(folder, exist_ok=True)
    if manual is None:
        manual = f'download it yourself and put it at {dest}'
    # a hidden folder of its own: gdown's partial files never sit under
    # a name that a later run would read
    staging = tempfile.mkdtemp(prefix='.download-', dir=folder)
    try:
        part = osp.join(staging, osp.basename(dest))
        gdown.download(
            url,
            part,
            quiet=not progress,
            timeout=timeout,
            retries=RETRIES,
            log_messages=dict(
                start=f'Downloading {osp.basename(dest)}\n',
                output=f'To: {dest}\n'))
        problem = not_a_checkpoint(part)
        if problem:
            raise NotACheckpointDownloaded(f'what came is no checkpoint: '
                                           f'{problem}')
        os.replace(part, dest)
    except (requests.exceptions.RequestException, DownloadError,
            NotACheckpointDownloaded, OSError) as err:
        reason = _reason(err, timeout)
        raise CheckpointDownloadError(
            f'cannot download {url} ({reason}); {manual}') from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
