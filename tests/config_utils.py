"""Shrink DAN configs to tiny runs on tiny fixtures, in memory or on disk.

One shrinker, :func:`shrink_config`, for any config run in this process by
a Runner; :func:`write_config` uses it to write the tiny SynthFER run that
the tools (``tools/train.py`` ...) run in a subprocess.
"""
import uuid
from typing import Optional

from fer_test_utils import CONFIG
from mmengine.config import Config, ConfigDict

from dan_mm.utils.config import set_dataloader_defaults

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def load_config(path: str) -> Config:
    """``Config.fromfile`` without yapf-formatting the config dumps.

    The runner pretty-prints the config 5 times per run (log, dump, message
    hub); yapf takes ~1 s each on these CPUs and is not under test.
    mmengine 0.10.7's ``fromfile`` drops ``format_python_code=False`` for
    non-lazy configs, so rebuild the Config with it.
    """
    cfg = Config.fromfile(path)
    return Config(
        cfg.to_dict(), filename=cfg.filename, format_python_code=False)


def _shrink_pipeline(pipeline, size):
    for t in pipeline:
        kind = t.get('type')
        if kind == 'Resize':
            t['scale'] = (size, size)
        elif kind == 'RandomCrop':
            t['crop_size'] = size
            t['padding'] = max(1, t.get('padding', 0) * size // 224)
        if 'transforms' in t:
            _shrink_pipeline(t['transforms'], size)


def shrink_config(cfg: Config,
                  work_dir: str,
                  data_root: str,
                  size: int = 64,
                  batch_size: int = 2,
                  num_samples: Optional[int] = 2) -> Config:
    """One epoch of one iteration, one val/test batch, ``size`` px images.

    The model, sampler, optimiser, schedule and hooks stay the config's own;
    only the data location, image size, batch and data set length shrink.

    Args:
        cfg (Config): The config, changed in place.
        work_dir (str): Where the run writes.
        data_root (str): Root of the fixture data.
        size (int): Image side. Defaults to 64.
        batch_size (int): Every loader's batch. Defaults to 2.
        num_samples (int, optional): Samples kept per data set (None: all).
            Defaults to 2.

    Returns:
        Config: ``cfg``.
    """
    for field in LOADERS:
        loader = cfg.get(field)
        if loader is None:
            continue
        loader.batch_size = batch_size
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = data_root
        if num_samples is not None:
            loader.dataset.indices = num_samples
        _shrink_pipeline(loader.dataset.pipeline, size)
        set_dataloader_defaults(cfg, field)
    backbone = cfg.model.backbone
    if 'img_size' in backbone:  # ViT / Swin position embeddings
        backbone.img_size = size
    if cfg.train_cfg.get('by_epoch', True):
        cfg.train_cfg.max_epochs = 1
        cfg.train_cfg.val_interval = 1
    cfg.work_dir = work_dir
    cfg.experiment_name = f'test_{uuid.uuid4().hex[:8]}'
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = None  # no 100+ MB files per config
    cfg.launcher = 'none'
    return cfg


def write_config(path,
                 data_root,
                 options: Optional[dict] = None,
                 max_iters: int = 4,
                 max_epochs: Optional[int] = None,
                 ckpt_interval: int = 2,
                 val_interval: Optional[int] = None,
                 batch_size: int = 4,
                 image_size: int = 64,
                 num_samples: Optional[int] = None,
                 seed: int = 0,
                 sampler: Optional[dict] = None,
                 probe_dir=None,
                 kill_after_iter: Optional[int] = None,
                 fail_before_train: bool = False) -> str:
    """Write a tiny ``configs/dan_r18_synthfer.py`` training run to ``path``.

    :func:`shrink_config`'s data (no workers, ``image_size`` px, every
    sample unless ``num_samples``), then: ``max_iters`` iterations of an
    ``IterBasedTrainLoop`` (LR x0.1 half-way), or ``max_epochs`` epochs when
    given; a checkpoint every ``ckpt_interval`` iterations (epochs);
    validation every ``val_interval`` (None: none); deterministic with
    ``seed``. The config keeps its own hooks (NumClassesCheckHook,
    SaveConfusionMatrixHook, SyncBuffersHook).

    Args:
        path (str | Path): The config file to write.
        data_root (str): A RAF-DB-layout root (the ``synthfer_root``
            fixture).
        options (dict, optional): Merged last, as ``--cfg-options``
            (``{'model.head.num_classes': 8}``).
        sampler (dict, optional): The train sampler; defaults to a shuffled
            ``InfiniteSampler``.
        probe_dir (str, optional): Add ``tests/probe_hook.py``'s
            ``ProbeHook`` writing there (``kill_after_iter``: SIGKILL the
            run after that iteration; ``fail_before_train``: raise a bug's
            RuntimeError before training).

    Returns:
        str: ``path``.
    """
    cfg = shrink_config(
        load_config(CONFIG),
        work_dir=None,
        data_root=str(data_root),
        size=image_size,
        batch_size=batch_size,
        num_samples=num_samples)
    cfg.train_dataloader.sampler = ConfigDict(
        sampler or dict(type='InfiniteSampler', shuffle=True))
    by_epoch = max_epochs is not None
    if by_epoch:
        cfg.train_dataloader.sampler.type = 'DefaultSampler'
        cfg.train_cfg = dict(
            type='EpochBasedTrainLoop',
            max_epochs=max_epochs,
            val_interval=val_interval or max_epochs + 1)
        cfg.param_scheduler = dict(type='ConstantLR', factor=1.0)
    else:
        cfg.train_cfg = dict(
            type='IterBasedTrainLoop',
            max_iters=max_iters,
            val_interval=val_interval or max_iters + 1)
        cfg.param_scheduler = dict(
            type='MultiStepLR',
            by_epoch=False,
            milestones=[max(1, max_iters // 2)],
            gamma=0.1)
        cfg.log_processor = dict(by_epoch=False)
    if val_interval is None:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook',
        by_epoch=by_epoch,
        interval=ckpt_interval,
        max_keep_ckpts=10,
        save_best=None)
    cfg.randomness = dict(seed=seed, deterministic=True)
    if probe_dir is not None:
        cfg.custom_imports.imports = ['dan_mm', 'probe_hook']
        cfg.custom_hooks = cfg.custom_hooks + [
            dict(
                type='ProbeHook',
                out_dir=str(probe_dir),
                kill_after_iter=kill_after_iter,
                fail_before_train=fail_before_train)
        ]
    if options:
        cfg.merge_from_dict(options)
    cfg.dump(str(path))
    return str(path)
