"""Test (and evaluate) a DAN checkpoint; mmpretrain's tools/test.py flags.

Everything after parsing is :func:`dan_mm.engine.runner.run_test`.
"""
import argparse
import os

from mmengine.config import DictAction

import dan_mm  # noqa: F401  (registers DAN; torch>=2.6 checkpoint loading)
from dan_mm.engine.runner import run_test
from dan_mm.utils.cli import (DefaultsHelpFormatter,
                              add_config_mismatch_argument, add_debug_argument,
                              add_tensorboard_argument,
                              add_trust_checkpoint_argument,
                              exit_on_user_error)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Test a DAN model', formatter_class=DefaultsHelpFormatter)
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
    parser.add_argument(
        '--show-dir',
        help='save the drawn predictions here (mmpretrain\'s '
        'VisualizationHook, default_hooks.visualization)')
    parser.add_argument(
        '--show',
        action='store_true',
        help='show the drawn predictions in a window')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='draw every INTERVAL-th test sample (default: 1)')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=2,
        help='seconds each --show window stays open (default: 2)')
    parser.add_argument('--no-pin-memory', action='store_true')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='flip test-time augmentation (the config\'s tta_model and '
        'tta_pipeline)')
    parser.add_argument(
        '--groups',
        nargs='?',
        const='auto',
        metavar='CSV',
        help='also report top-1 (95%% interval), balanced accuracy and ECE '
        'per group of people, and the largest gap: RAF-DB\'s gender, race '
        'and age from its Annotation/manual files (SynthFER: the '
        'generator\'s skin tone and apparent age), or for another data set '
        'a CSV of image,group_name,group_value rows; groups.png and '
        'groups.csv go to the work dir')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_tensorboard_argument(parser)
    add_debug_argument(parser)
    add_trust_checkpoint_argument(parser)
    add_config_mismatch_argument(parser)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out')
    return args


@exit_on_user_error
def main():
    run_test(parse_args())


if __name__ == '__main__':
    main()
