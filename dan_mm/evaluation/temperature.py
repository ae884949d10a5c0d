"""A model's temperature, kept with the model: in the checkpoint, in ONNX
files (fitted by :mod:`dan_mm.analysis.calibrate`,
``tools/analysis_tools/calibrate.py``).

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
import os
import os.path as osp
from typing import Optional, Tuple

import torch
from mmengine.config import Config

from ..utils.checkpoint import load_checkpoint_file
from ..utils.errors import ConfigError

META_KEY = 'calibration'
ONNX_KEY = 'dan_mm.temperature'


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
    if hasattr(model, 'get_modelmeta'):
        value = model.get_modelmeta().custom_metadata_map.get(ONNX_KEY)
        return None if value is None else float(value)
    if not osp.isfile(model):
        return None
    import onnx  # the deploy extra, which writes such files
    for prop in onnx.load(model, load_external_data=False).metadata_props:
        if prop.key == ONNX_KEY:
            return float(prop.value)
    return None


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
