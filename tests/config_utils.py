"""Shrink a DAN config to a one-iteration run on tiny fixtures."""
import uuid

from mmengine.config import Config

from dan_mm.utils.tool_utils import set_dataloader_defaults

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
                  num_samples: int = 2) -> Config:
    """One epoch of one iteration, one val/test batch, ``size`` px images.

    The model, sampler, optimiser, schedule and hooks stay the config's own;
    only the data location, image size, batch and data set length shrink.
    """
    for field in LOADERS:
        loader = cfg.get(field)
        if loader is None:
            continue
        loader.batch_size = batch_size
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = data_root
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
