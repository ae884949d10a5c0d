"""Test (and evaluate) a DAN checkpoint; mmpretrain's tools/test.py flags."""
import argparse
import os

import mmengine
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import dan_mm  # noqa: F401  (registers DAN; torch>=2.6 checkpoint loading)
from dan_mm.evaluation import cross_dataset_config, model_classes
from dan_mm.utils.dist_utils import setup_cpu_distributed
from dan_mm.utils.tool_utils import (add_debug_argument,
                                     add_tensorboard_argument,
                                     add_trust_checkpoint_argument, apply_tta,
                                     check_checkpoint_file, check_data_roots,
                                     enable_tensorboard, exit_on_user_error,
                                     load_config, merge_cfg_options,
                                     naming_checkpoint, naming_config_keys,
                                     set_dataloader_defaults, set_work_dir)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a DAN model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save metrics and plots')
    parser.add_argument('--out', help='dump predictions (or metrics) here')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='what --out holds; defaults to predictions')
    parser.add_argument(
        '--cross-dataset',
        metavar='DATA_CONFIG',
        help='test on the test split of the data set of DATA_CONFIG (e.g. '
        'configs/dan_r18_ferplus.py) instead, through this config\'s test '
        'pipeline, with the model\'s classes matched to its classes by '
        'name; --cfg-options test_dataloader.dataset.data_root=... points '
        'at the data')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='test with automatic mixed precision')
    parser.add_argument('--no-pin-memory', action='store_true')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='flip test-time augmentation (the config\'s tta_model and '
        'tta_pipeline)')
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
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out')
    return args


def merge_args(cfg: Config, args) -> Config:
    """Merge the command line into the config."""
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint
    if args.cross_dataset:
        cross_dataset_config(cfg, load_config(args.cross_dataset),
                             model_classes(cfg, args.checkpoint))
    if args.amp:
        cfg.test_cfg.fp16 = True
    if args.tensorboard:
        enable_tensorboard(cfg)
    merge_cfg_options(cfg, args.cfg_options)
    if args.tta:  # after --cfg-options: model.* still means DAN there
        apply_tta(cfg)
    set_dataloader_defaults(
        cfg, 'test_dataloader', pin_memory=not args.no_pin_memory)
    return cfg


@exit_on_user_error
def main():
    args = parse_args()
    check_checkpoint_file(args.checkpoint, 'the CHECKPOINT argument')
    cfg = load_config(args.config)
    # Errors of a config dict surface where mmengine builds it: the runner
    # builds the model now, the data set and evaluator in test().
    with naming_config_keys(cfg), naming_checkpoint(args.checkpoint):
        merge_args(cfg, args)  # --cross-dataset builds data set metainfo
        check_data_roots(cfg, ('test_dataloader', ))
        setup_cpu_distributed(cfg)  # torchrun without a GPU: gloo, CPU DDP
        runner = (
            Runner.from_cfg(cfg)
            if 'runner_type' not in cfg else RUNNERS.build(cfg))
        if args.out and args.out_item in ['pred', None]:
            runner.test_evaluator.metrics.append(
                DumpResults(out_file_path=args.out))
        metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    main()
