"""Where a training run's weights start, checked before anything is built.

The reference starts DAN's backbone from a ResNet-18 trained on MS-Celeb-1M,
and the paper's numbers need it; the real-data configs do the same
(``model.backbone.init_cfg``, type ``Pretrained``). mmengine reads that file
only in ``Runner.train()``, after it has built the model and the data, and
a resumed run reads it too (``init_weights()`` runs before the checkpoint is
loaded). :func:`prepare_pretrained_start` settles all of it up front.
"""
import contextlib
import logging
import os
import os.path as osp
from typing import Any, Callable, Iterator, Optional, Tuple

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint

from ..utils.errors import CheckpointError, PretrainedNotFoundError, one_line

MSCELEB_FILE = 'resnet18_msceleb.pth'
MSCELEB_SOURCE = ('the MS-Celeb-1M ResNet-18 linked under "Preparation" in '
                  "the DAN reference's README, "
                  'https://github.com/yaoing/DAN#preparation')
IMAGENET_CONFIG = 'configs/dan_r18-in1k_rafdb.py'
FROM_SCRATCH_WARNING = (
    'model.backbone starts from scratch: the command line removed the '
    "config's pretrained weights, so accuracy will be far below the paper "
    "(the paper starts from MS-Celeb-1M weights; {config} starts from "
    'ImageNet)').format(config=IMAGENET_CONFIG)


def _is_pretrained(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get('type') == 'Pretrained'


def _entries(init_cfg: Any) -> list:
    """An init_cfg (None, a dict or a list of dicts) as a list."""
    if init_cfg is None:
        return []
    return list(init_cfg) if isinstance(init_cfg, (list, tuple)) else \
        [init_cfg]


def _init_cfgs(cfg: Any, key: str) -> Iterator[Tuple[str, dict]]:
    """Every ``init_cfg`` entry of type ``Pretrained`` under ``cfg``."""
    if not isinstance(cfg, dict):
        return
    for name, value in cfg.items():
        path = f'{key}.{name}'
        if name == 'init_cfg':
            for entry in filter(_is_pretrained, _entries(value)):
                yield path, entry
        elif isinstance(value, dict):
            yield from _init_cfgs(value, path)


def starts_pretrained(backbone: Any) -> bool:
    """Whether a backbone config loads pretrained weights.

    Args:
        backbone (dict | None): ``model.backbone`` of a config.

    Returns:
        bool: True for a ``Pretrained`` init_cfg or timm's ``pretrained`` /
        ``checkpoint_path``.
    """
    if not isinstance(backbone, dict):
        return False
    if any(map(_is_pretrained, _entries(backbone.get('init_cfg')))):
        return True
    return bool(backbone.get('pretrained')) or bool(
        backbone.get('checkpoint_path'))


def drop_pretrained(cfg: dict) -> None:
    """Remove ``Pretrained`` init_cfgs and timm's pretrained flags, in place.

    For runs whose weights come from elsewhere (a checkpoint) or do not
    matter (speed benchmarks).

    Args:
        cfg (dict): A model config (or any part of one).
    """
    for name, value in list(cfg.items()):
        if name == 'init_cfg':
            kept = [e for e in _entries(value) if not _is_pretrained(e)]
            if isinstance(value, (list, tuple)):
                cfg[name] = kept or None
            else:
                cfg[name] = kept[0] if kept else None
        elif name == 'pretrained' and value is True:
            cfg[name] = False
        elif name == 'checkpoint_path' and value:
            cfg[name] = ''
        elif isinstance(value, dict):
            drop_pretrained(value)


def _loads_checkpoint(cfg: Config) -> bool:
    """Whether the run's weights come from a checkpoint: ``load_from``, or
    ``resume`` with a checkpoint in the work dir (mmengine starts afresh
    when there is none)."""
    if cfg.get('load_from'):
        return True
    work_dir = cfg.get('work_dir')
    return bool(cfg.get('resume')) and work_dir is not None and \
        find_latest_checkpoint(work_dir) is not None


def _missing_message(key: str,
                     checkpoint: str,
                     failed: Optional[str] = None) -> str:
    where = osp.abspath(osp.expanduser(checkpoint))
    if osp.basename(checkpoint) == MSCELEB_FILE:
        failed = f', and {failed}' if failed else ''
        return (
            f'{key} starts from {checkpoint}, which does not exist'
            f'{failed}: download {MSCELEB_FILE} ({MSCELEB_SOURCE}) and put '
            f'it at {where}; or start from ImageNet weights with '
            f'{IMAGENET_CONFIG}, or from scratch with --cfg-options '
            f'{key}=None (accuracy far below the paper)')
    return (f'{key} starts from {checkpoint}, which does not exist: put the '
            f'file at {where}, point {key}.checkpoint at your copy, or train '
            f'without it with --cfg-options {key}=None')


def _fetched(fetch: Optional[Callable[[str], Optional[str]]], key: str,
             checkpoint: str) -> Optional[str]:
    """The path ``fetch`` downloaded a missing file to, or None."""
    if fetch is None:
        return None
    try:
        return fetch(checkpoint)
    except CheckpointError as err:
        # "cannot download <url> (<why>)": the rest is said below
        failed = one_line(err).split('; ')[0]
        raise PretrainedNotFoundError(
            _missing_message(key, checkpoint, failed)) from err


def prepare_pretrained_start(
        cfg: Config,
        fetch: Optional[Callable[[str], Optional[str]]] = None) -> None:
    """Check (or drop) a training config's pretrained weights, up front.

    Called by ``tools/train.py`` before the runner builds data or model:

    - a run that loads a checkpoint (``load_from``, or ``resume`` with a
      checkpoint in the work dir) takes its weights from there, so the
      config's ``Pretrained`` init_cfgs and timm ``pretrained`` flags are
      dropped and their files are not needed;
    - otherwise every ``Pretrained`` local file must exist, else
      :class:`PretrainedNotFoundError` says where it comes from and the
      alternatives;
    - a backbone that the config file starts from pretrained weights but
      the merged config (``--cfg-options model.backbone.init_cfg=None``)
      starts from scratch logs one warning.

    Args:
        cfg (Config): The merged training config (``cfg.filename`` is the
            config file).
        fetch (Callable, optional): Called with a missing file's path;
            returns where it downloaded the file to (which the config then
            uses), or None when it does not know the file. The engine
            passes :func:`dan_mm.zoo.fetch_released_file`, which fetches
            ``resnet18_msceleb.pth`` into dan_mm's cache.

    Raises:
        PretrainedNotFoundError: A ``Pretrained`` local file is missing.
    """
    model = cfg.get('model')
    if model is None:
        return
    if _loads_checkpoint(cfg):
        drop_pretrained(model)
        return
    for key, entry in _init_cfgs(model, 'model'):
        checkpoint = str(entry.get('checkpoint', ''))
        if '://' in checkpoint:
            continue  # a URL: downloaded (and checked) by the loader
        if not osp.isfile(osp.expanduser(checkpoint)):
            fetched = _fetched(fetch, key, checkpoint)
            if fetched is None:
                raise PretrainedNotFoundError(
                    _missing_message(key, checkpoint))
            entry['checkpoint'] = fetched
    if starts_pretrained(model.get('backbone')) or not cfg.filename:
        return
    original = Config.fromfile(cfg.filename).get('model', {})
    # one warning per run: rank 0 only
    if starts_pretrained(original.get('backbone')) and \
            os.environ.get('RANK', '0') == '0':
        print_log(
            FROM_SCRATCH_WARNING, logger='current', level=logging.WARNING)


def _download_reason(err: CheckpointError, url: str) -> str:
    """``why`` of "cannot download <url> (why); ...", else the cause."""
    message = one_line(err)
    start = f'cannot download {url} ('
    if start in message and '); ' in message:
        return message.split(start, 1)[1].split('); ', 1)[0]
    return one_line(err.__cause__ or err)


@contextlib.contextmanager
def naming_pretrained_keys(cfg: Config):
    """Name the config key of a ``Pretrained`` URL that cannot be fetched.

    mmengine downloads a URL's weights in ``Runner.train()``, where the
    config key is unknown; offline, the download's error then says only
    which URL failed. This re-raises it as one line naming the key that
    takes a local file instead (``model.backbone.init_cfg.checkpoint``).

    Args:
        cfg (Config): The training config.

    Raises:
        CheckpointError: A ``Pretrained`` URL could not be downloaded.
    """
    try:
        yield
    except CheckpointError as err:
        for key, entry in _init_cfgs(cfg.get('model') or {}, 'model'):
            url = str(entry.get('checkpoint', ''))
            if '://' in url and 'cannot download' in str(err) and \
                    url in str(err):
                reason = _download_reason(err, url)
                raise CheckpointError(
                    f'{key}.checkpoint: cannot download {url} ({reason}); '
                    'download the file on a machine that is online and pass '
                    f'it with --cfg-options {key}.checkpoint=/path/to/file'
                ) from err
        raise
