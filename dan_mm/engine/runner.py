"""Build the Runner of a training or test run, with every step around it.

``tools/train.py``, ``tools/test.py`` (and ``mim train`` / ``mim test``,
which run them) and :func:`dan_mm.engine.multi_seed.run_multi_seed` all go
through :func:`build_runner`, so each run gets the same checks in the same
order: the pretrained start (training), the checkpoint, the data roots,
CPU-only distributed set-up, the runner type, and errors that name the
config key or checkpoint at fault. The tools themselves only parse their
command line and call :func:`run_train` or :func:`run_test`.
"""
import contextlib
from argparse import Namespace
from typing import Optional

import mmengine
from mmengine.config import Config
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..evaluation import cross_dataset_config, model_classes
from ..evaluation.groups import enable_group_report
from ..evaluation.temperature import use_checkpoint_temperature
from ..utils.checkpoint_config import check_checkpoint_config
from ..utils.cli import check_checkpoint_file, naming_checkpoint
from ..utils.config import (check_data_roots, load_config, merge_cfg_options,
                            naming_config_keys, set_dataloader_defaults,
                            set_work_dir)
from ..zoo import fetch_released_file
from .dist_utils import setup_cpu_distributed
from .pretrained import naming_pretrained_keys, prepare_pretrained_start
from .run_config import (amp_optim_wrapper, apply_tta, enable_tensorboard,
                         enable_visualization)

# The loaders each mode builds: training validates but never tests.
LOADERS = {
    'train': ('train_dataloader', 'val_dataloader'),
    'test': ('test_dataloader', ),
}


def merge_train_args(cfg: Config, args: Namespace) -> Config:
    """Merge ``tools/train.py``'s command line into the config.

    Args:
        cfg (Config): The loaded config; changed in place.
        args (Namespace): ``tools/train.py``'s parsed arguments.

    Returns:
        Config: ``cfg``.
    """
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    if args.amp:
        cfg.optim_wrapper = amp_optim_wrapper(cfg.optim_wrapper)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.tensorboard:
        enable_tensorboard(cfg)
    merge_cfg_options(cfg, args.cfg_options)
    # After --cfg-options, so that num_workers=0 given there is seen.
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_dataloader_defaults(
            cfg,
            field,
            pin_memory=not args.no_pin_memory,
            persistent_workers=not args.no_persistent_workers)
    return cfg


def merge_test_args(cfg: Config, args: Namespace) -> Config:
    """Merge ``tools/test.py``'s command line into the config.

    Args:
        cfg (Config): The loaded config; changed in place.
        args (Namespace): ``tools/test.py``'s parsed arguments.

    Returns:
        Config: ``cfg``.
    """
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint
    if args.cross_dataset:
        cross_dataset_config(cfg, load_config(args.cross_dataset),
                             model_classes(cfg, args.checkpoint))
    if args.amp:
        cfg.test_cfg.fp16 = True
    if args.show or args.show_dir is not None:
        enable_visualization(cfg, args.show, args.show_dir, args.interval,
                             args.wait_time)
    if args.tensorboard:
        enable_tensorboard(cfg)
    merge_cfg_options(cfg, args.cfg_options)
    if getattr(args, 'groups', None):  # after --cfg-options: data_root
        enable_group_report(cfg, args.groups)
    # a calibrated checkpoint is tested with its temperature
    use_checkpoint_temperature(cfg, args.checkpoint)
    if args.tta:  # after --cfg-options: model.* still means DAN there
        apply_tta(cfg)
    set_dataloader_defaults(
        cfg, 'test_dataloader', pin_memory=not args.no_pin_memory)
    return cfg


def _checkpoint_name(cfg: Config, mode: str) -> Optional[str]:
    """What to call the checkpoint a run loads, in errors."""
    if cfg.get('load_from'):
        return cfg.load_from
    return f'the latest in {cfg.work_dir}' if mode == 'train' else None


@contextlib.contextmanager
def naming_run_errors(cfg: Config, mode: str):
    """Errors of a run as one line naming the config key or checkpoint.

    mmengine builds the model when the runner is built, but the data sets,
    hooks and pretrained weights only in ``train()`` / ``test()``: wrap
    those calls too.

    Args:
        cfg (Config): The run's config.
        mode (str): ``'train'`` or ``'test'``.
    """
    pretrained = naming_pretrained_keys(cfg) if mode == 'train' else \
        contextlib.nullcontext()
    with naming_config_keys(cfg), pretrained, naming_checkpoint(
            _checkpoint_name(cfg, mode)):
        yield


def build_runner(cfg: Config,
                 mode: str,
                 checkpoint_source: str = 'load_from') -> Runner:
    """Check a merged config and build its Runner, as every tool does.

    In order: (training) the pretrained start is checked or dropped
    (:func:`~dan_mm.engine.pretrained.prepare_pretrained_start`) before
    anything is built; the checkpoint ``load_from`` names must exist; the
    data roots of the loaders ``mode`` builds must exist; a CPU-only
    ``launcher='pytorch'`` run joins its process group with gloo; the
    runner is ``RUNNERS.build(cfg)`` if the config sets ``runner_type``,
    else mmengine's Runner. Errors of building name the config key or the
    checkpoint; wrap ``runner.train()`` / ``runner.test()`` in
    :func:`naming_run_errors` for the same.

    Args:
        cfg (Config): The merged config (see :func:`merge_train_args`).
        mode (str): ``'train'`` or ``'test'``.
        checkpoint_source (str): Where ``load_from`` came from, for the
            message of a missing file (``'resume=True'``).

    Returns:
        Runner: The built runner.

    Raises:
        UserError: One of the checks failed (a subclass naming the fix).
    """
    if mode not in LOADERS:
        raise ValueError(f'mode must be "train" or "test", not {mode!r}')
    if mode == 'train':
        # a missing MS-Celeb file stops here; resumed runs do not need it
        # (resnet18_msceleb.pth is fetched into dan_mm's cache when absent)
        prepare_pretrained_start(cfg, fetch=fetch_released_file)
    check_checkpoint_file(cfg.get('load_from'), checkpoint_source)
    check_data_roots(cfg, LOADERS[mode])
    setup_cpu_distributed(cfg)  # torchrun without a GPU: gloo, CPU DDP
    with naming_run_errors(cfg, mode):
        if 'runner_type' in cfg:
            return RUNNERS.build(cfg)
        return Runner.from_cfg(cfg)


def run_train(args: Namespace) -> Runner:
    """``tools/train.py``: load, merge, build and train.

    Args:
        args (Namespace): ``tools/train.py``'s parsed arguments.

    Returns:
        Runner: The runner, after training.
    """
    cfg = merge_train_args(load_config(args.config), args)
    explicit = args.resume not in (None, 'auto')
    runner = build_runner(cfg, 'train',
                          'resume=True' if explicit else 'load_from')
    with naming_run_errors(cfg, 'train'):
        runner.train()
    return runner


def run_test(args: Namespace) -> dict:
    """``tools/test.py``: load, merge, build and test.

    Args:
        args (Namespace): ``tools/test.py``'s parsed arguments.

    Returns:
        dict: The test metrics.
    """
    check_checkpoint_file(args.checkpoint, 'the CHECKPOINT argument')
    cfg = load_config(args.config)
    # trained with another input size, mean/std or class order: refused
    check_checkpoint_config(
        cfg,
        args.checkpoint,
        getattr(args, 'allow_config_mismatch', False),
        config_name=args.config)
    cfg.load_from = args.checkpoint
    # --cross-dataset builds the data set's metainfo while merging
    with naming_run_errors(cfg, 'test'):
        merge_test_args(cfg, args)
        runner = build_runner(cfg, 'test', 'the CHECKPOINT argument')
        if args.out and args.out_item in ['pred', None]:
            runner.test_evaluator.metrics.append(
                DumpResults(out_file_path=args.out))
        metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)
    return metrics
