"""Train a DAN config (mmpretrain's tools/train.py flags; num_workers=0 ok).

Everything after parsing is :func:`dan_mm.engine.runner.run_train`.
"""
import argparse
import os

from mmengine.config import DictAction

import dan_mm  # noqa: F401  (registers DAN; torch>=2.6 checkpoint loading)
from dan_mm.engine.runner import run_train
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              add_tensorboard_argument,
                              add_trust_checkpoint_argument,
                              exit_on_user_error)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Train a DAN model', formatter_class=DefaultsHelpFormatter)
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


@exit_on_user_error
def main():
    run_train(parse_args())


if __name__ == '__main__':
    main()
