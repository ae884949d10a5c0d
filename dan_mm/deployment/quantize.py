"""A DAN checkpoint as an int8 ONNX model, kept only if it agrees with fp32.

:func:`quantize_onnx` is what ``tools/deployment/quantize_onnx.py`` runs:

1. the model in deploy form (heads fused) is exported to fp32 ONNX
   and checked against PyTorch (:func:`dan_mm.runtime.export_verified`);
2. ONNX Runtime's own tools quantise it: ``quant_pre_process``, then
   ``quantize_static`` (QDQ, per-channel weights, MinMax or Percentile
   calibration) on faces cut as the training faces were: the config's test
   pipeline over its training split, or over a folder of face images;
3. both models run with ONNX Runtime over the config's test split, and the
   agreement is written next to the int8 model (``model.int8.json``).

The integer arithmetic follows the CPU (:func:`choose_arithmetic`): without
VNNI, u8 x s8 products are summed in 16 bits and saturate (ONNX Runtime's
quantization docs), so weights then use 7 bits (``reduce_range``).

When the two models agree on fewer test faces than ``min_agreement``,
nothing is kept and :class:`AgreementError` says so.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from torchvision.datasets.folder import IMG_EXTENSIONS

from ..runtime import (agreement_record, create_session, export_verified,
                       inference_image_size, load_model, prepare_for_inference)
from ..utils.cli import check_checkpoint_file
from ..utils.config import naming_config_keys
from ..utils.environment import cpu_flags, cpu_name
from ..utils.errors import ConfigError, DataError, UserError
from ..utils.image_io import decode_image, list_image_files

CALIB_METHODS = ('minmax', 'percentile')
VNNI_FLAGS = ('avx512_vnni', 'avx_vnni')


class AgreementError(UserError, ValueError):
    """The int8 model agrees with fp32 on too few test faces."""


def choose_arithmetic(flags: Iterable[str]) -> dict:
    """The int8 arithmetic that is exact enough on a CPU with ``flags``.

    With VNNI (``avx512_vnni`` or ``avx_vnni``) u8 activations times s8
    weights are summed in 32 bits: full 8-bit weights are safe. Without it
    (AVX2 alone, e.g. Zen 3) the products are summed in pairs in 16 bits
    and can saturate; 7-bit weights (``reduce_range``) avoid that. On the
    SynthFER model MinMax agreement was 99.0% with it and 97.1% without.

    Args:
        flags (Iterable[str]): CPU flags (:func:`cpu_flags`).

    Returns:
        dict: ``name`` (``'u8s8'`` or ``'u8s8_reduce_range'``),
        ``reduce_range`` (bool), ``activation_type`` and ``weight_type``
        (``'uint8'``/``'int8'``) and ``reason`` (one sentence).
    """
    vnni = sorted(set(flags) & set(VNNI_FLAGS))
    if vnni:
        return dict(
            name='u8s8',
            reduce_range=False,
            activation_type='uint8',
            weight_type='int8',
            reason=f'the CPU has VNNI ({", ".join(vnni)}): u8s8 sums in 32 '
            'bits, full 8-bit weights')
    return dict(
        name='u8s8_reduce_range',
        reduce_range=True,
        activation_type='uint8',
        weight_type='int8',
        reason='the CPU has no VNNI (avx512_vnni/avx_vnni): u8s8 would '
        'saturate its 16-bit sums, so weights use 7 bits (reduce_range)')


def load_deploy_model(cfg: Config, checkpoint: str) -> torch.nn.Module:
    """The config's model with ``checkpoint``'s weights, on the CPU, in
    eval mode and deploy form (heads fused, where the model has one)."""
    model = load_model(cfg, checkpoint)
    return prepare_for_inference(
        model, deploy=hasattr(model, 'switch_to_deploy'))


def build_dataset(cfg: Config, split: str):
    """The config's ``split`` data set (``'train'`` or ``'test'``), read
    through the config's test pipeline.

    The training split keeps its own data root and annotation but loses
    its augmentations: calibration must see faces as inference does.

    Args:
        cfg (Config): The full config.
        split (str): ``'train'`` or ``'test'``.

    Returns:
        BaseDataset: The data set.
    """
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import DATASETS
    init_default_scope('mmpretrain')
    dataset_cfg = cfg[f'{split}_dataloader'].dataset.copy()
    inner = dataset_cfg
    while 'dataset' in inner:  # a wrapper (repeat, class balance)
        inner = inner.dataset
    inner.pipeline = cfg.test_dataloader.dataset.pipeline
    with naming_config_keys(cfg):
        return DATASETS.build(dataset_cfg)


def folder_images(folder: str) -> List[str]:
    """The image files under ``folder`` (torchvision's ``IMG_EXTENSIONS``),
    sorted, subfolders included.

    Raises:
        DataError: ``folder`` is no folder or holds no image.
    """
    if not osp.isdir(folder):
        raise DataError(f'--calib-dir {folder} is not a folder; pass a '
                        'folder of face images')
    paths = list_image_files(folder, recursive=True)
    if not paths:
        raise DataError(f'--calib-dir {folder} holds no image '
                        f'({", ".join(IMG_EXTENSIONS)}); pass a folder of '
                        'face images')
    return paths


def folder_samples(cfg: Config,
                   folder: str,
                   limit: Optional[int] = None) -> List[dict]:
    """The first ``limit`` images of ``folder`` through the test pipeline.

    Each image is decoded by :func:`decode_image` (as the data sets and
    the inferencer read images), then resized (and cropped, where the
    config's test pipeline crops) as the test faces are.

    Args:
        cfg (Config): The full config.
        folder (str): A folder of face images.
        limit (int, optional): Use at most this many. Defaults to all.

    Returns:
        list[dict]: Packed samples (``inputs``: ``(3, H, W)`` uint8 tensor).
    """
    from mmengine.registry import init_default_scope
    paths = folder_images(folder)[:limit]
    init_default_scope('mmpretrain')  # the pipeline's transforms
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    samples = []
    for path in paths:
        img = decode_image(path)
        sample = pipeline(
            dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2]))
        samples.append(sample)
    return samples


def dataset_samples(dataset, indices: Sequence[int]) -> Iterator[dict]:
    """``dataset[i]`` for ``i`` in ``indices`` (packed samples)."""
    for index in indices:
        yield dataset[int(index)]


def normalized_batches(samples: Iterable[dict], preprocessor,
                       batch_size: int) -> Iterator[Tuple[np.ndarray, list]]:
    """Packed samples as the ONNX graph's input, ``batch_size`` at a time.

    Args:
        samples (Iterable[dict]): Packed samples (``inputs``,
            ``data_samples``).
        preprocessor: The model's data preprocessor (normalises, to RGB).
        batch_size (int): Faces per batch.

    Yields:
        tuple: ``(N, 3, H, W)`` float32 inputs and the N data samples.
    """
    batch = []

    def flush():
        data = preprocessor(pseudo_collate(batch), False)
        return data['inputs'].numpy().astype(
            np.float32), data.get('data_samples') or [None] * len(batch)

    with torch.no_grad():
        for sample in samples:
            batch.append(sample)
            if len(batch) == batch_size:
                yield flush()
                batch = []
        if batch:
            yield flush()


class FaceCalibrationReader:
    """ONNX Runtime's ``CalibrationDataReader`` over prepared input
    batches: ``get_next()`` gives ``{'input': batch}`` until they run out.

    Args:
        batches (list[np.ndarray]): ``(N, 3, H, W)`` float32 inputs.
    """

    def __init__(self, batches: List[np.ndarray]):
        self.batches = batches
        self.rewind()

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        return next(self._iter, None)

    def rewind(self) -> None:
        self._iter = ({'input': batch} for batch in self.batches)


def calibration_batches(cfg: Config,
                        preprocessor,
                        calib_dir: Optional[str] = None,
                        num_calib: int = 64,
                        batch_size: int = 8,
                        seed: int = 0) -> List[np.ndarray]:
    """The calibration faces, as ONNX input batches.

    From ``calib_dir`` (its first ``num_calib`` images, sorted), or else
    ``num_calib`` faces drawn at random (``seed``) from the training split,
    so that every class is likely among them.

    Returns:
        list[np.ndarray]: ``(N, 3, H, W)`` float32 batches.
    """
    if calib_dir is not None:
        samples = folder_samples(cfg, calib_dir, num_calib)
    else:
        dataset = build_dataset(cfg, 'train')
        if not len(dataset):
            raise DataError('--calib-split train: the training split is '
                            'empty; pass --calib-dir DIR')
        order = np.random.default_rng(seed).permutation(len(dataset))
        samples = dataset_samples(dataset, order[:num_calib])
    return [
        b for b, _ in normalized_batches(samples, preprocessor, batch_size)
    ]


def quantize_model(fp32_path: str, out: str, reader: FaceCalibrationReader,
                   arithmetic: dict, calib_method: str, work_dir: str) -> None:
    """ONNX Runtime's static QDQ quantisation of ``fp32_path`` into ``out``.

    Args:
        fp32_path (str): The fp32 ONNX model.
        out (str): The int8 model to write.
        reader (FaceCalibrationReader): The calibration inputs.
        arithmetic (dict): :func:`choose_arithmetic`'s choice.
        calib_method (str): ``'minmax'`` or ``'percentile'``.
        work_dir (str): Where the pre-processed model goes.
    """
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    types = dict(uint8=QuantType.QUInt8, int8=QuantType.QInt8)
    method = dict(
        minmax=CalibrationMethod.MinMax,
        percentile=CalibrationMethod.Percentile)[calib_method]
    prepared = osp.join(work_dir, 'prepared.onnx')
    quant_pre_process(fp32_path, prepared)
    quantize_static(
        prepared,
        out,
        reader,
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        reduce_range=arithmetic['reduce_range'],
        activation_type=types[arithmetic['activation_type']],
        weight_type=types[arithmetic['weight_type']],
        calibrate_method=method)


def compare_on_test_split(fp32_path: str, int8_path: str, cfg: Config,
                          preprocessor, threads: int, batch_size: int) -> dict:
    """Run both models over the config's test split and compare them.

    Returns:
        dict: ``test_faces``, then ``images``, ``agreement``,
        ``top1_fp32`` and ``top1_low`` (int8's; fractions in [0, 1], see
        :func:`~dan_mm.runtime.agreement_record`), ``macro_f1_fp32``,
        ``macro_f1_int8``,
        ``mean_logit_cosine`` and ``predictions`` (``labels``, ``fp32``,
        ``int8``: one class index per test face, in data set order).
    """
    from sklearn.metrics import f1_score
    dataset = build_dataset(cfg, 'test')
    if not len(dataset):
        raise DataError('the config\'s test split is empty: the agreement '
                        'cannot be measured; check test_dataloader.dataset')
    sessions = [create_session(p, threads) for p in (fp32_path, int8_path)]
    labels, preds, cosines = [], ([], []), []
    for inputs, data_samples in normalized_batches(
            dataset_samples(dataset, range(len(dataset))), preprocessor,
            batch_size):
        logits = [s.run(['logits'], {'input': inputs})[0] for s in sessions]
        for i, out in enumerate(logits):
            preds[i].extend(out.argmax(1).tolist())
        cosines.extend((logits[0] * logits[1]).sum(1) /
                       (np.linalg.norm(logits[0], axis=1) *
                        np.linalg.norm(logits[1], axis=1) + 1e-12))
        labels.extend(int(s.gt_label[0]) for s in data_samples)
    labels, p32, p8 = (np.array(v) for v in (labels, *preds))

    def f1(pred):
        return round(
            float(f1_score(labels, pred, average='macro', zero_division=0)), 6)

    return dict(
        test_faces=len(labels),
        **agreement_record(labels, p32, p8),
        macro_f1_fp32=f1(p32),
        macro_f1_int8=f1(p8),
        mean_logit_cosine=round(float(np.mean(cosines)), 6),
        predictions=dict(
            labels=labels.tolist(), fp32=p32.tolist(), int8=p8.tolist()))


def report_path(out: str) -> str:
    """``model.int8.onnx`` -> ``model.int8.json``."""
    return osp.splitext(out)[0] + '.json'


def format_report(report: dict) -> str:
    """The one-line summary of a :func:`quantize_onnx` report."""
    return (f'int8 vs fp32 on {report["test_faces"]} test faces: predicted '
            f'class agrees on {100 * report["agreement"]:.2f}%; top-1 fp32 '
            f'{100 * report["top1_fp32"]:.2f}%, int8 '
            f'{100 * report["top1_low"]:.2f}%; macro-F1 fp32 '
            f'{report["macro_f1_fp32"]:.4f}, int8 '
            f'{report["macro_f1_int8"]:.4f}')


def remedy(calib_method: str) -> str:
    """What to try when the agreement is too low."""
    other = '' if calib_method == 'percentile' else \
        '--calib-method percentile, '
    return f'{other}more --num-calib faces, or a lower --min-agreement'


def check_options(num_calib: int, calib_method: str, threads: int,
                  calib_split: Optional[str]) -> None:
    """Refuse option values that cannot work, before any work."""
    if num_calib < 1:
        raise ConfigError(f'--num-calib {num_calib}: use at least 1 face')
    if calib_method not in CALIB_METHODS:
        raise ConfigError(f'--calib-method {calib_method}: use one of '
                          f'{", ".join(CALIB_METHODS)}')
    if threads < 1:
        raise ConfigError(f'--threads {threads}: use at least 1')
    if calib_split not in (None, 'train'):
        raise ConfigError(f'--calib-split {calib_split}: only "train" (or '
                          'pass --calib-dir DIR)')


def quantize_onnx(cfg: Config,
                  checkpoint: str,
                  out: str,
                  calib_dir: Optional[str] = None,
                  calib_split: Optional[str] = 'train',
                  num_calib: int = 64,
                  calib_method: str = 'minmax',
                  min_agreement: float = 0.99,
                  threads: int = 2,
                  batch_size: int = 16,
                  flags: Optional[Iterable[str]] = None,
                  log=print) -> dict:
    """Quantise the deploy form of ``checkpoint`` to int8 ONNX at ``out``.

    Args:
        cfg (Config): The model's config (its test split is the yardstick).
        checkpoint (str): The checkpoint to load.
        out (str): The int8 ONNX file; the report goes to
            :func:`report_path` (``.json`` in place of ``.onnx``).
        calib_dir (str, optional): Calibrate on this folder's face images
            instead of the training split.
        calib_split (str, optional): ``'train'``: calibrate on the config's
            training split (ignored with ``calib_dir``).
        num_calib (int): Calibration faces. Defaults to 64.
        calib_method (str): ``'minmax'`` or ``'percentile'``.
        min_agreement (float): Keep the model only if the predicted class
            agrees with fp32 on at least this fraction of the test faces.
            Defaults to 0.99.
        threads (int): ONNX Runtime intra-op threads. Defaults to 2.
        batch_size (int): Faces per ONNX Runtime call. Defaults to 16.
        flags (Iterable[str], optional): CPU flags for the arithmetic;
            defaults to this CPU's (:func:`cpu_flags`).
        log (Callable): Prints the progress lines. Defaults to ``print``.

    Returns:
        dict: The report written as JSON (see :func:`compare_on_test_split`
        for the agreement keys, plus ``calibration_faces``,
        ``calibration``, ``calib_method``, ``arithmetic``, ``cpu``,
        ``threads``, ``image_size``, ``onnx``).

    Raises:
        CheckpointError: ``checkpoint`` is missing or does not fit.
        DataError: The calibration or test faces cannot be read.
        AgreementError: The agreement is below ``min_agreement``; no file
            is written.
    """
    check_options(num_calib, calib_method, threads,
                  None if calib_dir else calib_split)
    check_checkpoint_file(checkpoint, 'the CHECKPOINT argument')
    if calib_dir is not None:
        folder_images(calib_dir)  # before the long work: it has images
    arithmetic = choose_arithmetic(cpu_flags() if flags is None else flags)
    log(f'int8 arithmetic: {arithmetic["name"]}, since {arithmetic["reason"]}')
    model = load_deploy_model(cfg, checkpoint)
    image_size = inference_image_size(cfg)
    with tempfile.TemporaryDirectory(prefix='dan_int8_') as tmp:
        fp32_path = osp.join(tmp, 'fp32.onnx')
        export_verified(model, fp32_path, image_size, batch_sizes=(1, ))
        batches = calibration_batches(cfg, model.data_preprocessor, calib_dir,
                                      num_calib)
        calib_faces = sum(len(b) for b in batches)
        log(f'calibrating on {calib_faces} faces from '
            f'{calib_dir or "the training split"} ({calib_method})')
        int8_tmp = osp.join(tmp, 'int8.onnx')
        quantize_model(fp32_path, int8_tmp, FaceCalibrationReader(batches),
                       arithmetic, calib_method, tmp)
        report = compare_on_test_split(fp32_path, int8_tmp, cfg,
                                       model.data_preprocessor, threads,
                                       batch_size)
        report.update(
            calibration_faces=calib_faces,
            calibration=calib_dir or 'train split',
            calib_method=calib_method,
            arithmetic=arithmetic,
            cpu=cpu_name(),
            threads=threads,
            image_size=image_size,
            onnx=osp.basename(out))
        log(format_report(report))
        if report['agreement'] < min_agreement:
            raise AgreementError(
                f'int8 agrees with fp32 on {100 * report["agreement"]:.2f}% '
                f'of {report["test_faces"]} test faces, below '
                f'--min-agreement {min_agreement:g}; kept no file; try '
                f'{remedy(calib_method)}')
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        shutil.move(int8_tmp, out)
    with open(report_path(out), 'w', encoding='utf-8') as f:
        f.write(report_json(report))
    return report


def report_json(report: dict) -> str:
    """The report as indented JSON, each prediction list on one line."""
    head = {k: v for k, v in report.items() if k != 'predictions'}
    lines = json.dumps(head, indent=1)[:-2]  # without the closing brace
    predictions = ',\n'.join(f'  {json.dumps(k)}: {json.dumps(v)}'
                             for k, v in report.get('predictions', {}).items())
    return f'{lines},\n "predictions": {{\n{predictions}\n }}\n}}\n'
