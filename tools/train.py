"""Train a DAN config (mmpretrain's tools/train.py flags; num_workers=0 ok)."""
import argparse
import os

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import dan_mm  # noqa: F401  (registers DAN; torch>=2.6 checkpoint loading)
from dan_mm.utils.dist_utils import setup_cpu_distributed
from dan_mm.utils.pretrained import prepare_pretrained_start
from dan_mm.utils.tool_utils import (add_debug_argument,
                                     add_tensorboard_argument,
                                     add_trust_checkpoint_argument,
                                     amp_optim_wrapper, check_checkpoint_file,
                                     check_data_roots, enable_tensorboard,
                                     exit_on_user_error, load_config,
                                     merge_cfg_options, naming_checkpoint,
                                     naming_config_keys,
                                     set_dataloader_defaults, set_work_dir)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a DAN model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or with no value from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (fp16 on GPU, bf16 on CPU)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate with the total batch size')
    parser.add_argument('--no-pin-memory', action='store_true')
    parser.add_argument('--no-persistent-workers', action='store_true')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (e.g. '
        'train_cfg.max_epochs=2)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_tensorboard_argument(parser)
    add_debug_argument(parser)
    add_trust_checkpoint_argument(parser)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args) -> Config:
    """Merge the command line into the config."""
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


@exit_on_user_error
def main():
    args = parse_args()
    cfg = merge_args(load_config(args.config), args)
    # before the runner builds data and model: a missing MS-Celeb file stops
    # here, and resumed runs do not need it
    prepare_pretrained_start(cfg)
    check_checkpoint_file(
        cfg.get('load_from'),
        '--resume' if args.resume not in (None, 'auto') else 'load_from')
    # the loaders training builds (the test loader is tools/test.py's)
    check_data_roots(cfg, ('train_dataloader', 'val_dataloader'))
    setup_cpu_distributed(cfg)  # torchrun without a GPU: gloo, CPU DDP
    # Errors of a config dict surface where mmengine builds it: the runner
    # builds the model now, the data sets and hooks in train().
    with naming_config_keys(cfg), naming_checkpoint(
            cfg.get('load_from') or f'the latest in {cfg.work_dir}'):
        runner = (
            Runner.from_cfg(cfg)
            if 'runner_type' not in cfg else RUNNERS.build(cfg))
        runner.train()


if __name__ == '__main__':
    main()
