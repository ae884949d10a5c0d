"""Train and test a config once per seed; report mean ± std of the metrics.

Example::

    python tools/analysis_tools/multi_seed.py configs/dan_r18_rafdb.py \
        --seeds 0 1 2 --work-dir work_dirs/rafdb_seeds

Each seed trains in ``<work-dir>/seed_<seed>/`` and is then tested with the
model as it is at the end of training (as ``tools/test.py`` on the last
checkpoint would). The table is written to ``<work-dir>/summary.md`` and
``<work-dir>/summary.json`` (per-seed values, mean, sample std with
ddof=1; std is 0 for a single seed) and printed.
"""
import argparse
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.config import DictAction
from mmengine.runner import Runner
from tqdm import tqdm

import dan_mm  # noqa: F401  (registers DAN)
from dan_mm.utils.errors import ConfigError
from dan_mm.utils.tool_utils import (add_debug_argument, exit_on_user_error,
                                     load_config, merge_cfg_options,
                                     naming_checkpoint, naming_config_keys,
                                     set_dataloader_defaults)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Train + test a config for several seeds and report '
        'mean ± std of the test metrics')
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


def run_seed(config: str, seed: int, work_dir: str, cfg_options: dict,
             deterministic: bool) -> Dict[str, float]:
    """Train then test ``config`` with ``seed``; return the test metrics."""
    cfg = load_config(config)
    merge_cfg_options(cfg, cfg_options)
    cfg.randomness = dict(seed=seed, deterministic=deterministic)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    name = osp.splitext(osp.basename(config))[0]
    cfg.experiment_name = f'{name}_seed{seed}_{os.getpid()}'
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_dataloader_defaults(cfg, field)
    with naming_config_keys(cfg), naming_checkpoint(cfg.get('load_from')):
        runner = Runner.from_cfg(cfg)
        runner.train()
        metrics = runner.test()
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float, np.floating, np.integer))
    }


def summarize(per_seed: Dict[int, Dict[str, float]]) -> Dict[str, dict]:
    """Mean and sample std (ddof=1) of every metric all seeds report.

    Args:
        per_seed (dict): ``{seed: {metric: value}}``.

    Returns:
        dict: ``{metric: {'mean', 'std', 'values'}}``.
    """
    keys = set.intersection(*(set(m) for m in per_seed.values()))
    summary = {}
    for key in sorted(keys):
        values = [per_seed[s][key] for s in per_seed]
        std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        summary[key] = dict(
            mean=float(np.mean(values)), std=std, values=values)
    return summary


def to_markdown(config: str, seeds: List[int], summary: dict) -> str:
    """The summary as a markdown table, one metric a row."""
    lines = [
        f'Config: `{config}`, seeds: {", ".join(map(str, seeds))}', '',
        '| metric | mean ± std | ' + ' | '.join(f'seed {s}'
                                                for s in seeds) + ' |',
        '|---|---|' + '---|' * len(seeds)
    ]
    for key, row in summary.items():
        cells = ' | '.join(f'{v:.2f}' for v in row['values'])
        lines.append(f'| {key} | {row["mean"]:.2f} ± {row["std"]:.2f} | '
                     f'{cells} |')
    return '\n'.join(lines) + '\n'


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    name = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join('work_dirs', 'multi_seed', name)
    os.makedirs(work_dir, exist_ok=True)
    if len(set(args.seeds)) != len(args.seeds):
        raise ConfigError(f'--seeds repeats a seed: {args.seeds}')
    per_seed = {}
    for seed in tqdm(args.seeds, desc=f'{name}: seeds', unit='seed'):
        per_seed[seed] = run_seed(args.config, seed,
                                  osp.join(work_dir, f'seed_{seed}'),
                                  args.cfg_options, args.deterministic)
    summary = summarize(per_seed)
    result = dict(
        config=args.config,
        seeds=args.seeds,
        per_seed={
            str(s): m
            for s, m in per_seed.items()
        },
        summary=summary)
    for value in (v for row in summary.values() for v in row['values']):
        if not math.isfinite(value):
            raise ConfigError(
                'a test metric is not finite: the training diverged (try a '
                f'lower learning rate): {summary}')
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(result, f, indent=2)
    markdown = to_markdown(args.config, args.seeds, summary)
    with open(osp.join(work_dir, 'summary.md'), 'w') as f:
        f.write(markdown)
    print(markdown)
    print(f'written: {osp.join(work_dir, "summary.md")}, '
          f'{osp.join(work_dir, "summary.json")}')
    return result


if __name__ == '__main__':
    main()
