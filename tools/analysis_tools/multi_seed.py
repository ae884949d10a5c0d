"""Train and test a config once per seed; report mean ± std of the metrics.

Example::

    python tools/analysis_tools/multi_seed.py configs/dan_r18_rafdb.py \
        --seeds 0 1 2 --work-dir work_dirs/rafdb_seeds

Everything after parsing is :func:`dan_mm.engine.multi_seed.run_multi_seed`
(the table goes to ``<work-dir>/summary.md`` and ``summary.json``).
"""
import argparse
from typing import Optional, Sequence

from mmengine.config import DictAction

import dan_mm  # noqa: F401  (registers DAN)
from dan_mm.engine.multi_seed import run_multi_seed
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              exit_on_user_error)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Train + test a config for several seeds and report '
        'mean ± std of the test metrics',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='random seeds (default: 0 1 2)')
    parser.add_argument(
        '--work-dir',
        help='where runs and the summary go (default: '
        'work_dirs/multi_seed/<config name>)')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='also make cuDNN deterministic (slower)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    add_debug_argument(parser)
    return parser.parse_args(argv)


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    return run_multi_seed(args.config, args.seeds, args.work_dir,
                          args.cfg_options, args.deterministic)


if __name__ == '__main__':
    main()
