"""Load checkpoints without running code that they carry.

A ``.pth`` file is a pickle, and unpickling it in full can run any code the
file names. Every weights load of dan_mm goes through
:func:`load_checkpoint_file`: ``torch.load(weights_only=True)`` with an
allow-list (:data:`SAFE_GLOBALS`) of exactly the types that mmengine,
mmpretrain, dan_mm and the DAN reference checkpoints hold. A file that
needs anything else is refused with :class:`UnsafeCheckpointError`, naming
the file, the type it wanted and the opt-in for files the user trusts:
``--trust-checkpoint`` on the tools, ``DAN_MM_TRUST_CHECKPOINTS=1`` or
:func:`trust_checkpoints` in Python.

Importing :mod:`dan_mm` registers these functions as mmengine's checkpoint
loaders for local files, http(s) URLs and the ``torchvision://``,
``open-mmlab://`` and ``mmcls://`` model names
(:func:`dan_mm.compat.route_checkpoint_loading`), so resume, ``load_from``,
``init_cfg=dict(type='Pretrained', ...)``, ``runner.test()``, ``mim test``,
mmpretrain's ``get_model`` and the inferencer load safely. (mmengine 0.10.7
calls ``torch.load`` without ``weights_only``, which on torch >= 2.6 refuses
its own checkpoints, and downloads with ``weights_only=False``.)

Which checkpoint kind needs which type is in docs/checkpoints.md;
``tests/test_utils/test_safe_checkpoint.py`` keeps every kind loading.
"""
import os
import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict
from typing import Any, List, Optional
from urllib.error import URLError
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import (get_deprecated_model_names,
                                        get_external_models, get_mmcls_models,
                                        get_torchvision_models)

# The switch lives with the light errors, which the command line loads
# before torch (dan_mm.utils.cli).
from .errors import (TRUST_ENV, TRUST_FLAG, CheckpointError,
                     CheckpointNotFoundError, UnsafeCheckpointError,
                     checkpoints_trusted)
from .reference_layout import as_dan_mm_checkpoint

OPT_IN = (f'if you trust this file, pass {TRUST_FLAG} (Python: set '
          f'{TRUST_ENV}=1 or call dan_mm.utils.trust_checkpoints())')


def history_buffer_statistic(owner: Any, name: str) -> Any:
    """``getattr`` restricted to what mmengine checkpoints use it for.

    A ``HistoryBuffer`` pickles its statistics methods (``min``, ``max``,
    ``current``, ``mean`` and registered ones) as ``getattr(HistoryBuffer,
    name)``. Any other ``getattr`` in a checkpoint is refused.

    Args:
        owner (Any): The object to read from; must be ``HistoryBuffer``.
        name (str): The attribute; must be a registered statistic.

    Returns:
        Callable: The statistics method.
    """
    # HistoryBuffer fills its table of statistics on first use
    statistics = {'min', 'max', 'current', 'mean'}
    statistics.update(HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and name in statistics:
        return getattr(owner, name)
    owner_name = getattr(owner, '__qualname__', type(owner).__qualname__)
    raise pickle.UnpicklingError(
        f'Unsupported global: GLOBAL getattr({owner_name}, {name!r}) '
        'was not an allowed global')


# numpy 2 pickles arrays and scalars under numpy._core, numpy 1 under
# numpy.core: accept both names for the same functions.
SAFE_GLOBALS: List[Any] = [
    HistoryBuffer,
    (history_buffer_statistic, 'builtins.getattr'),
    np.ndarray,
    np.dtype,
    # A dtype is rebuilt as np.dtype('f8') and then set up through its
    # class: HistoryBuffer keeps float64 values and int64 counts.
    np.dtypes.Float64DType,
    np.dtypes.Int64DType,
    (np._core.multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
    (np._core.multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
    (np._core.multiarray.scalar, 'numpy._core.multiarray.scalar'),
    (np._core.multiarray.scalar, 'numpy.core.multiarray.scalar'),
]


def _allowed_names() -> set:
    names = set()
    for item in SAFE_GLOBALS:
        if isinstance(item, tuple):
            names.add(item[1])
        else:
            names.add(f'{item.__module__}.{item.__qualname__}')
    return names


def _wanted(filename: str, err: Exception) -> str:
    """Name what a refused checkpoint wanted, as exactly as possible."""
    try:
        unsafe = [
            name for name in
            torch.serialization.get_unsafe_globals_in_checkpoint(filename)
            if name not in _allowed_names()
        ]
    except Exception:  # legacy (non-zip) files: read the error instead
        unsafe = []
    if unsafe:
        return ', '.join(sorted(unsafe))
    message = str(err)
    for pattern in (r'GLOBAL (\S+?(?:\(.*?\))?) (?:was not|whose module)',
                    r"but got <class '([^']+)'>",
                    r'reduce for unrecognized function ([^\n]+)'):
        found = re.search(pattern, message)
        if found:
            return found.group(1)
    found = re.search(r'WeightsUnpickler error:\s*([^\n]+)', message)
    reason = found.group(1) if found else message.strip().splitlines()[0]
    return f'something else ({reason.strip()})'


def load_checkpoint_file(filename: str,
                         map_location: Any = None,
                         source: Optional[str] = None,
                         mmap: bool = False) -> Any:
    """Load a local checkpoint file, refusing anything but allowed types.

    Args:
        filename (str): Path of the checkpoint file (``~`` is expanded).
        map_location (str | torch.device | Callable, optional): Same as
            :func:`torch.load`.
        source (str, optional): What to call the file in messages (the URL
            it was downloaded from). Defaults to ``filename``.
        mmap (bool): Map the tensors' storage instead of reading it (for a
            look at ``meta``; zip checkpoints only, others are read).
            Defaults to False.

    Returns:
        Any: The loaded object (a dict for every checkpoint dan_mm reads).

    Raises:
        CheckpointNotFoundError: There is no such file.
        CheckpointError: The file is not a PyTorch checkpoint or damaged.
        UnsafeCheckpointError: The file needs a type outside
            :data:`SAFE_GLOBALS` and checkpoints are not trusted.
    """
    filename = osp.expanduser(str(filename))
    name = source or filename
    if not osp.isfile(filename):
        raise CheckpointNotFoundError(f'checkpoint not found: {name}')
    not_checkpoint = not_a_checkpoint(filename)
    if not_checkpoint:
        raise CheckpointError(
            f'cannot read checkpoint {name}: not a PyTorch checkpoint, or '
            f'damaged ({not_checkpoint}); save or download it again')
    mmap = mmap and zipfile.is_zipfile(filename)
    try:
        if checkpoints_trusted():
            return torch.load(
                filename,
                map_location=map_location,
                weights_only=False,
                mmap=mmap)
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(
                filename,
                map_location=map_location,
                weights_only=True,
                mmap=mmap)
    except pickle.UnpicklingError as err:
        wanted = _refused(filename, err)
        if wanted is None:
            raise CheckpointError(_unreadable(name, err)) from err
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {name}: it needs {wanted}, which no '
            'dan_mm, mmpretrain or DAN reference checkpoint holds, and '
            f'unpickling it could run code; {OPT_IN}') from err
    except (RuntimeError, EOFError, KeyError, ValueError) as err:
        # torch's messages for a damaged zip, an empty or a non-torch file
        raise CheckpointError(_unreadable(name, err)) from err


# The first bytes of a file that is no checkpoint but often stands in for
# one: a download that brought a web page, a Git LFS pointer.
_LOOKS_LIKE = ((b'<', 'an HTML page: a download that brought a web page, '
                'e.g. a sign-in or quota page?'),
               (b'version https://git-lfs', 'a Git LFS pointer, not the file: '
                'run git lfs pull?'))


def not_a_checkpoint(filename: str) -> Optional[str]:
    """Why a file cannot be a PyTorch checkpoint, from its first bytes.

    A checkpoint is a zip archive (``torch.save``'s format since 1.6) or a
    pickle of protocol 2 or later (the legacy format), and a zip archive
    ends in its central directory, so a cut-off download is told apart too.

    Args:
        filename (str): The local file.

    Returns:
        str | None: What the file is instead (empty, an HTML page, a zip
        archive without its end, ...); None when it may be a checkpoint.
    """
    with open(filename, 'rb') as f:
        head = f.read(64)
    if not head:
        return 'the file is empty'
    if head.startswith(b'PK\x03\x04'):
        if zipfile.is_zipfile(filename):
            return None
        return ('a zip archive without its end: cut short by an '
                'interrupted download or copy?')
    if head[0] == 0x80 and 2 <= head[1] <= 5:
        return None  # a pickle: the legacy format
    stripped = head.lstrip()
    for start, what in _LOOKS_LIKE:
        if stripped.lower().startswith(start):
            return what
    return f'neither a zip archive nor a pickle: it starts with {head[:12]!r}'


def _refused(filename: str, err: pickle.UnpicklingError) -> Optional[str]:
    """What torch's weights-only unpickler refused, or None when the file
    is damaged rather than holding types outside the allow-list."""
    if 'Weights only load failed' not in str(err):
        return None
    wanted = _wanted(filename, err)
    if wanted.startswith('something else'):
        # not a global that was refused: an opcode or a reduce the
        # unpickler cannot read, i.e. a damaged pickle
        return None
    return wanted


def _unreadable(name: str, err: BaseException) -> str:
    # the first sentence of torch's message
    reason = str(err).strip().splitlines()[0].split('. ')[0] \
        if str(err).strip() else ''
    return (f'cannot read checkpoint {name}: not a PyTorch checkpoint, or '
            f'damaged ({type(err).__name__}: {reason or "empty"}); save or '
            'download it again')


def load_from_local(filename: str, map_location: Any = None) -> Any:
    """mmengine's loader for local paths (scheme ``''``), made safe.

    Args:
        filename (str): Path of the checkpoint file.
        map_location (str | torch.device, optional): Same as
            :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint; one in the DAN reference's layout is
        converted to dan_mm's (:func:`as_dan_mm_checkpoint`).
    """
    return as_dan_mm_checkpoint(
        load_checkpoint_file(filename, map_location), filename)


def download_checkpoint(url: str,
                        model_dir: Optional[str] = None,
                        progress: bool = True) -> str:
    """Download ``url`` into torch hub's cache, unless it is there already.

    The same place :func:`torch.hub.load_state_dict_from_url` uses
    (``$TORCH_HOME/hub/checkpoints``), so earlier downloads are reused.

    Args:
        url (str): http(s) URL of the checkpoint.
        model_dir (str, optional): Where to keep it. Defaults to torch hub's
            checkpoint folder.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        str: Path of the local copy.

    Raises:
        CheckpointError: The download failed.
    """
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir, osp.basename(urlparse(url).path))
    if not osp.isfile(cached):
        try:
            torch.hub.download_url_to_file(url, cached, progress=progress)
        except (URLError, OSError) as err:
            raise CheckpointError(
                f'cannot download checkpoint {url}: {err}; download it '
                'yourself and give its local path instead') from err
    return cached


def load_from_http(filename: str,
                   map_location: Any = None,
                   model_dir: Optional[str] = None,
                   progress: Optional[bool] = None) -> Any:
    """mmengine's loader for http(s) URLs, made safe.

    As mmengine's: in a distributed run local rank 0 downloads first, then
    the others read the cached copy. The copy is loaded by
    :func:`load_checkpoint_file`.

    Args:
        filename (str): URL of the checkpoint.
        map_location (str | torch.device, optional): Same as
            :func:`torch.load`.
        model_dir (str, optional): Download folder. Defaults to torch hub's.
        progress (bool, optional): Show a progress bar. Defaults to whether
            stdin is a terminal.

    Returns:
        Any: The loaded checkpoint.
    """
    if progress is None:
        progress = os.isatty(0)
    rank, world_size = get_dist_info()
    if rank == 0:
        path = download_checkpoint(filename, model_dir, progress)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            path = download_checkpoint(filename, model_dir, progress)
    return load_checkpoint_file(path, map_location, source=filename)


def _zoo_name(filename: str) -> str:
    """``'torchvision://resnet18'`` -> ``'resnet18'``."""
    return filename.split('://', 1)[1]


def load_from_torchvision(filename: str, map_location: Any = None) -> Any:
    """mmengine's loader for ``torchvision://`` (and the deprecated
    ``modelzoo://``) names, made safe: the URL from torchvision's model
    list, downloaded by :func:`load_from_http`.

    Args:
        filename (str): ``torchvision://<name>``.
        map_location (str | torch.device, optional): Same as
            :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint.
    """
    url = get_torchvision_models()[_zoo_name(filename)]
    return load_from_http(url, map_location=map_location)


def load_from_openmmlab(filename: str, map_location: Any = None) -> Any:
    """mmengine's loader for ``open-mmlab://`` / ``openmmlab://`` names,
    made safe: a URL is downloaded by :func:`load_from_http`, a file in
    mmengine's cache (``$MMENGINE_HOME``) is read by
    :func:`load_checkpoint_file`.

    Args:
        filename (str): ``open-mmlab://<name>``.
        map_location (str | torch.device, optional): Same as
            :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint.
    """
    name = _zoo_name(filename)
    name = get_deprecated_model_names().get(name, name)
    url = get_external_models()[name]
    if url.startswith(('http://', 'https://')):
        return load_from_http(url, map_location=map_location)
    # mmengine's cache folder, as mmengine.runner.checkpoint finds it
    home = os.getenv(
        'MMENGINE_HOME',
        osp.join(os.getenv('XDG_CACHE_HOME', '~/.cache'), 'mmengine'))
    return load_checkpoint_file(
        osp.join(osp.expanduser(home), url), map_location)


def load_from_mmcls(filename: str, map_location: Any = None) -> Any:
    """mmengine's loader for ``mmcls://`` names, made safe: downloaded by
    :func:`load_from_http`, then, as mmengine does, only the backbone's
    weights are kept, without their ``backbone.`` prefix.

    Args:
        filename (str): ``mmcls://<name>``.
        map_location (str | torch.device, optional): Same as
            :func:`torch.load`.

    Returns:
        dict: ``{'state_dict': backbone weights}``.
    """
    url = get_mmcls_models()[_zoo_name(filename)]
    checkpoint = load_from_http(url, map_location=map_location)
    state_dict = checkpoint.get('state_dict', checkpoint)
    prefix = 'backbone.'
    return dict(
        state_dict=OrderedDict((key[len(prefix):], value)
                               for key, value in state_dict.items()
                               if key.startswith(prefix)))


# What dan_mm.compat registers with mmengine's CheckpointLoader: every
# scheme of mmengine 0.10.7 that reads a file or downloads one.
CHECKPOINT_LOADERS = {
    '': load_from_local,
    ('http://', 'https://'): load_from_http,
    ('modelzoo://', 'torchvision://'): load_from_torchvision,
    ('open-mmlab://', 'openmmlab://'): load_from_openmmlab,
    'mmcls://': load_from_mmcls,
}
