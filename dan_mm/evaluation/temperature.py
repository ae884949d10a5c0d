"""Fit a model's temperature on its validation split and keep it with the
model (``tools/analysis_tools/calibrate.py``).

The temperature lives in the checkpoint's ``meta['calibration']``
(:data:`META_KEY`)::

    {'temperature': 1.73, 'calibration_set': 'val_dataloader: RAFDB ...',
     'num_samples': 700}

ONNX exports of a calibrated checkpoint carry it in their
``metadata_props`` (:data:`ONNX_KEY`), and int8 files made from them keep
it. Inference reads it with :func:`checkpoint_temperature` /
:func:`onnx_temperature` and applies it to the probabilities
(:func:`~dan_mm.evaluation.calibration.apply_temperature`).
"""
import copy
import json
import os
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from tqdm import tqdm

from ..utils.checkpoint import load_checkpoint_file
from ..utils.errors import ConfigError
from .calibration import (calibration_metrics, fit_temperature, log_probs,
                          save_reliability_diagram)

META_KEY = 'calibration'
ONNX_KEY = 'dan_mm.temperature'


class CalibrationSetError(ConfigError):
    """The config has no calibration set apart from its test split."""


def checkpoint_temperature(checkpoint: Optional[str]) -> Optional[float]:
    """The temperature a checkpoint was calibrated with, or None.

    Args:
        checkpoint (str, optional): A local checkpoint file (URLs and None
            give None).

    Returns:
        float | None: ``meta['calibration']['temperature']``.
    """
    if not checkpoint or '://' in str(
            checkpoint) or not osp.isfile(checkpoint):
        return None
    loaded = load_checkpoint_file(checkpoint, map_location='cpu')
    meta = loaded.get('meta') if isinstance(loaded, dict) else None
    calibration = (meta or {}).get(META_KEY) or {}
    temperature = calibration.get('temperature')
    return None if temperature is None else float(temperature)


def onnx_temperature(model) -> Optional[float]:
    """The temperature an ONNX model carries in its ``metadata_props``.

    Args:
        model (str | onnxruntime.InferenceSession | None): An ONNX file, or
            a session of one (read without loading it again).

    Returns:
        float | None: The temperature, or None.
    """
    if model is None:
        return None
    if not hasattr(model, 'get_modelmeta'):
        if not osp.isfile(model):
            return None
        import onnxruntime as ort
        model = ort.InferenceSession(model, providers=['CPUExecutionProvider'])
    value = model.get_modelmeta().custom_metadata_map.get(ONNX_KEY)
    return None if value is None else float(value)


def set_onnx_temperature(onnx_file: str, temperature: Optional[float]) -> None:
    """Write ``temperature`` into an ONNX file's ``metadata_props`` (in
    place; None leaves the file as it is)."""
    if temperature is None:
        return
    import onnx
    model = onnx.load(onnx_file)
    kept = [p for p in model.metadata_props if p.key != ONNX_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    prop = model.metadata_props.add()
    prop.key, prop.value = ONNX_KEY, repr(float(temperature))
    onnx.save(model, onnx_file)


def check_calibration_args(temperature: Optional[float],
                           min_confidence: Optional[float]) -> None:
    """Refuse a temperature <= 0 or a confidence outside 0..1.

    Raises:
        ConfigError: Naming the parameter.
    """
    if temperature is not None and not temperature > 0:
        raise ConfigError(f'temperature must be > 0, got {temperature}')
    if min_confidence is not None and not 0 <= min_confidence <= 1:
        raise ConfigError(f'min_confidence must be a probability from 0 to '
                          f'1, got {min_confidence}')


def model_temperature(temperature: Optional[float] = None,
                      checkpoint: Optional[str] = None,
                      onnx_file: Optional[str] = None,
                      session=None) -> Tuple[Optional[float], Optional[str]]:
    """The temperature inference applies, and a sentence saying so.

    Args:
        temperature (float, optional): Given by the caller: wins.
        checkpoint (str, optional): The checkpoint (its ``meta``).
        onnx_file (str, optional): The ONNX file run (its
            ``metadata_props``), before the checkpoint.
        session (onnxruntime.InferenceSession, optional): A session of
            ``onnx_file``, read instead of loading the file again.

    Returns:
        tuple: ``temperature`` (None: raw softmax) and the note (None
        without a temperature).
    """
    source = 'given'
    if temperature is None:
        temperature, source = onnx_temperature(session or onnx_file), \
            onnx_file
        if temperature is None:
            temperature, source = checkpoint_temperature(checkpoint), \
                checkpoint
    if temperature is None or temperature == 1:
        return None, None
    return temperature, (
        f'probabilities calibrated with temperature {temperature:.3f} '
        f'({"given" if source == "given" else "from " + str(source)})')


def save_calibrated_checkpoint(checkpoint: str, out: str,
                               calibration: dict) -> str:
    """Copy ``checkpoint`` to ``out`` with ``meta['calibration']`` set.

    Written beside ``out`` and renamed, so that ``out`` may be
    ``checkpoint`` itself and a crash leaves no half-written file.

    Returns:
        str: ``out``.
    """
    loaded = load_checkpoint_file(checkpoint, map_location='cpu')
    if not isinstance(loaded, dict) or 'state_dict' not in loaded:
        loaded = dict(state_dict=loaded)
    loaded.setdefault('meta', {})
    loaded['meta'] = dict(loaded['meta'] or {}, **{META_KEY: calibration})
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    partial = f'{out}.{os.getpid()}.partial'
    try:
        torch.save(loaded, partial)
        os.replace(partial, out)
    finally:
        if osp.exists(partial):
            os.remove(partial)
    return out


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
            'tools/dataset_converters/generate_synthfer.py DIR --seed 1), as '
            'the calibration data root')
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
    from mmpretrain.apis import get_model

    from ..utils.cli import check_checkpoint_file, naming_checkpoint
    from ..utils.config import naming_config_keys
    check_checkpoint_file(checkpoint, 'the CHECKPOINT argument')
    calib_loader, calib_name = calibration_loader(cfg, calib_root)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    out = out or f'{osp.splitext(checkpoint)[0]}_calibrated.pth'
    with naming_config_keys(cfg), naming_checkpoint(checkpoint):
        model = get_model(cfg, pretrained=checkpoint, device=device).eval()
    calib_probs, calib_labels = collect_probabilities(model, calib_loader,
                                                      'calibration set')
    temperature = fit_temperature(log_probs(calib_probs), calib_labels)
    test_probs, test_labels = collect_probabilities(model, cfg.test_dataloader,
                                                    'test split')
    from .calibration import apply_temperature
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


def use_checkpoint_temperature(cfg: Config,
                               checkpoint: str) -> Optional[float]:
    """Give the test evaluator's :class:`FERMetric` the checkpoint's
    temperature (unless the config sets one), so that a calibrated model is
    tested as inference runs it.

    Returns:
        float | None: The temperature used, if any.
    """
    temperature = checkpoint_temperature(checkpoint)
    if temperature is None:
        return None
    evaluators = cfg.test_evaluator
    for metric in evaluators if isinstance(evaluators, list) else [evaluators]:
        if 'FERMetric' in str(metric.get('type')) and \
                metric.get('temperature') is None:
            metric['temperature'] = temperature
    return temperature
