"""Train and test a config once per seed; report mean ± std of the metrics.

Each seed trains in ``<work_dir>/seed_<seed>/`` and is then tested with the
model as it is at the end of training (as ``tools/test.py`` on the last
checkpoint would). The table is written to ``<work_dir>/summary.md`` and
``<work_dir>/summary.json`` (per-seed values, mean, sample std with
ddof=1; std is 0 for a single seed). ``tools/analysis_tools/multi_seed.py``
is the command line of :func:`run_multi_seed`.
"""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from ..utils.cli import report_logger
from ..utils.config import (check_data_roots, load_config, merge_cfg_options,
                            set_dataloader_defaults)
from ..utils.errors import ConfigError
from .runner import LOADERS, build_runner, naming_run_errors


def run_seed(config: str, seed: int, work_dir: str,
             cfg_options: Optional[dict],
             deterministic: bool) -> Dict[str, float]:
    """Train then test ``config`` with ``seed``.

    The runner comes from :func:`~dan_mm.engine.runner.build_runner` (mode
    ``'train'``), so a seed gets the checks ``tools/train.py`` makes; the
    test loader's data root is checked too, before training starts.

    Args:
        config (str): The config file.
        seed (int): The random seed.
        work_dir (str): This seed's work dir.
        cfg_options (dict, optional): ``--cfg-options``.
        deterministic (bool): Also make cuDNN deterministic.

    Returns:
        dict: The numeric test metrics, ``{name: value}``.
    """
    cfg = load_config(config)
    merge_cfg_options(cfg, cfg_options)
    cfg.randomness = dict(seed=seed, deterministic=deterministic)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    name = osp.splitext(osp.basename(config))[0]
    cfg.experiment_name = f'{name}_seed{seed}_{os.getpid()}'
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_dataloader_defaults(cfg, field)
    check_data_roots(cfg, LOADERS['test'])  # tested after training
    runner = build_runner(cfg, 'train')
    with naming_run_errors(cfg, 'train'):
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


def run_multi_seed(config: str,
                   seeds: Sequence[int] = (0, 1, 2),
                   work_dir: Optional[str] = None,
                   cfg_options: Optional[dict] = None,
                   deterministic: bool = False) -> dict:
    """Train and test ``config`` once per seed; write and print the table.

    Args:
        config (str): The config file.
        seeds (Sequence[int]): The seeds, each once.
        work_dir (str, optional): Where the runs and the summary go.
            Defaults to ``work_dirs/multi_seed/<config name>``.
        cfg_options (dict, optional): ``--cfg-options`` for every seed.
        deterministic (bool): Also make cuDNN deterministic (slower).

    Returns:
        dict: ``config``, ``seeds``, ``per_seed`` (``{str(seed): metrics}``)
        and ``summary`` (see :func:`summarize`), as in ``summary.json``.

    Raises:
        ConfigError: A seed is repeated, or a metric is not finite (the
            training diverged).
    """
    seeds = list(seeds)
    name = osp.splitext(osp.basename(config))[0]
    work_dir = work_dir or osp.join('work_dirs', 'multi_seed', name)
    os.makedirs(work_dir, exist_ok=True)
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f'--seeds repeats a seed: {seeds}')
    per_seed = {}
    for seed in tqdm(seeds, desc=f'{name}: seeds', unit='seed'):
        per_seed[seed] = run_seed(config, seed,
                                  osp.join(work_dir, f'seed_{seed}'),
                                  cfg_options, deterministic)
    summary = summarize(per_seed)
    result = dict(
        config=config,
        seeds=seeds,
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
    markdown = to_markdown(config, seeds, summary)
    with open(osp.join(work_dir, 'summary.md'), 'w') as f:
        f.write(markdown)
    log = report_logger()
    log.info(markdown)
    log.info(f'written: {osp.join(work_dir, "summary.md")}, '
             f'{osp.join(work_dir, "summary.json")}')
    return result
