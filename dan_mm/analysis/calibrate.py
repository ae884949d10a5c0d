"""Fit one temperature on a model's calibration set and report on its test
split: what ``tools/analysis_tools/calibrate.py`` does.

The calibration set is the config's ``val_dataloader``, never the test
split; for data sets without a validation split (RAF-DB, SynthFER) a second
copy of the data set (:func:`calibration_loader`). The temperature goes into
the checkpoint's meta (:mod:`dan_mm.evaluation.temperature`).
"""
import copy
import json
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from tqdm import tqdm

from ..evaluation.calibration import (apply_temperature, calibration_metrics,
                                      fit_temperature, log_probs,
                                      save_reliability_diagram)
from ..evaluation.temperature import save_calibrated_checkpoint
from ..utils.errors import ConfigError


class CalibrationSetError(ConfigError):
    """The config has no calibration set apart from its test split."""


def _dataset_identity(loader) -> dict:
    dataset = copy.deepcopy(dict(loader.get('dataset') or {}))
    dataset.pop('pipeline', None)
    return dataset


def calibration_loader(cfg: Config,
                       calib_root: Optional[str] = None) -> Tuple[dict, str]:
    """The loader of the calibration set: the config's ``val_dataloader``.

    A config that validates on its test split (RAF-DB and SynthFER have no
    separate validation split) needs ``calib_root``: a second copy of the
    data set (same type and layout) whose test split is the calibration
    set, e.g. SynthFER generated with another seed.

    Returns:
        tuple[dict, str]: The loader config and a description of it.

    Raises:
        CalibrationSetError: No calibration set apart from the test split.
    """
    val, test = cfg.get('val_dataloader'), cfg.get('test_dataloader')
    if test is None:
        raise ConfigError('the config has no test_dataloader to report on')
    if calib_root is not None:
        if not osp.isdir(calib_root):
            raise CalibrationSetError(
                f'calibration data root not found: {calib_root}')
        loader = copy.deepcopy(test)
        loader['dataset']['data_root'] = calib_root
        if _dataset_identity(loader) == _dataset_identity(test):
            raise CalibrationSetError(
                f'{calib_root} is the test data set itself: give another '
                'copy of the data set as the calibration set')
        dataset = loader['dataset']
        return loader, (f'{dataset.get("type")} '
                        f'{dataset.get("split", "test")} split of '
                        f'{calib_root}')
    if val is None or _dataset_identity(val) == _dataset_identity(test):
        raise CalibrationSetError(
            'the config validates on its test split (val_dataloader is '
            'test_dataloader; RAF-DB and SynthFER have no validation split), '
            'and a temperature fitted there would be judged on the faces it '
            'was fitted on; give a second copy of the data set, in the same '
            'layout, whose test split is the calibration set (SynthFER: '
            'dan_mm.synthfer.generate_synthfer(DIR, seed=1), or '
            'tools/dataset_converters/generate_synthfer.py with another '
            'seed), as the calibration data root')
    dataset = val['dataset']
    return val, (
        f'val_dataloader: {dataset.get("type")} '
        f'{dataset.get("split", "")} of {dataset.get("data_root")}').replace(
            '  ', ' ')


def collect_probabilities(
        model: torch.nn.Module,
        loader_cfg: dict,
        desc: str = 'faces') -> Tuple[np.ndarray, np.ndarray]:
    """The model's class probabilities and the labels of a loader.

    Args:
        model (nn.Module): The model (eval mode).
        loader_cfg (dict): A dataloader config.
        desc (str): Progress bar label.

    Returns:
        tuple: ``probs`` ``(N, C)`` float64 and ``labels`` ``(N, )``.
    """
    from mmengine.runner import Runner
    loader_cfg = copy.deepcopy(dict(loader_cfg))
    loader_cfg['num_workers'] = 0
    loader_cfg.pop('persistent_workers', None)
    loader = Runner.build_dataloader(loader_cfg)
    probs, labels = [], []
    with torch.no_grad():
        for batch in tqdm(loader, desc=desc, unit='batch'):
            for sample in model.test_step(batch):
                probs.append(sample.pred_score.float().cpu().numpy())
                labels.append(int(sample.gt_label.item()))
    return np.stack(probs).astype(np.float64), np.array(labels, np.int64)


def report_paths(out: str) -> Tuple[str, str]:
    """The JSON report and the PNG written beside a calibrated checkpoint
    ``out``: ``<stem>_calibration.json``, ``<stem>_reliability.png``."""
    stem = osp.splitext(out)[0]
    return f'{stem}_calibration.json', f'{stem}_reliability.png'


def calibrate_checkpoint(cfg: Config,
                         checkpoint: str,
                         out: Optional[str] = None,
                         calib_root: Optional[str] = None,
                         device: str = 'cpu') -> dict:
    """Fit one temperature on the calibration set; report on the test split.

    Args:
        cfg (Config): The model's config (``--cfg-options`` merged).
        checkpoint (str): The checkpoint.
        out (str, optional): The calibrated checkpoint to write. Defaults
            to ``<checkpoint stem>_calibrated.pth`` beside it.
        calib_root (str, optional): A data root of a separate calibration
            set (:func:`calibration_loader`).
        device (str): Where the model runs. Defaults to ``'cpu'``.

    Returns:
        dict: ``temperature``, ``calibration_set``, ``num_calibration``,
        ``test`` (``before`` / ``after``: ``ece``, ``nll``, ``brier``;
        ``num_samples``), ``checkpoint`` (written), ``report`` (JSON) and
        ``figure`` (PNG, the reliability diagrams before and after).

    Raises:
        CalibrationSetError: No calibration set apart from the test split.
        CheckpointError: The checkpoint is missing or does not fit.
    """
    from mmengine.registry import init_default_scope

    from ..runtime import load_model
    from ..utils.cli import check_checkpoint_file
    check_checkpoint_file(checkpoint, 'the CHECKPOINT argument')
    calib_loader, calib_name = calibration_loader(cfg, calib_root)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    out = out or f'{osp.splitext(checkpoint)[0]}_calibrated.pth'
    model = load_model(cfg, checkpoint, device)
    calib_probs, calib_labels = collect_probabilities(model, calib_loader,
                                                      'calibration set')
    temperature = fit_temperature(log_probs(calib_probs), calib_labels)
    test_probs, test_labels = collect_probabilities(model, cfg.test_dataloader,
                                                    'test split')
    calibrated = apply_temperature(test_probs, temperature)
    before = calibration_metrics(test_probs, test_labels)
    after = calibration_metrics(calibrated, test_labels)
    calibration = dict(
        temperature=temperature,
        calibration_set=calib_name,
        num_samples=int(len(calib_labels)))
    save_calibrated_checkpoint(checkpoint, out, calibration)
    report_file, figure = report_paths(out)
    save_reliability_diagram(
        [('test split, as the model says', test_probs, test_labels),
         (f'test split, calibrated (T = {temperature:.3f})', calibrated,
          test_labels)], figure)
    report = dict(
        temperature=temperature,
        calibration_set=calib_name,
        num_calibration=int(len(calib_labels)),
        test=dict(
            before=before, after=after, num_samples=int(len(test_labels))),
        top1=100 * float((test_probs.argmax(1) == test_labels).mean()),
        checkpoint=out,
        figure=figure)
    with open(report_file, 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=2)
    report['report'] = report_file
    return report


def format_calibration_report(report: dict) -> str:
    """The report of :func:`calibrate_checkpoint` as a few lines."""
    before, after = report['test']['before'], report['test']['after']
    return '\n'.join([
        f'temperature {report["temperature"]:.4f}, fitted on '
        f'{report["num_calibration"]} faces ({report["calibration_set"]})',
        f'test split ({report["test"]["num_samples"]} faces, top-1 '
        f'{report["top1"]:.2f}, unchanged by the temperature):',
        f'  {"":<8} {"ECE %":>7} {"NLL":>7} {"Brier":>7}',
        f'  {"before":<8} {before["ece"]:>7.2f} {before["nll"]:>7.4f} '
        f'{before["brier"]:>7.4f}',
        f'  {"after":<8} {after["ece"]:>7.2f} {after["nll"]:>7.4f} '
        f'{after["brier"]:>7.4f}',
        f'calibrated checkpoint: {report["checkpoint"]}',
        f'reliability diagrams: {report["figure"]}; report: '
        f'{report["report"]}',
    ])
