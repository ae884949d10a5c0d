"""The temperature with the model: fitted by calibrate.py on the calibration
set, kept in the checkpoint, the ONNX and the int8 file, applied at
inference; faces below a confidence threshold marked uncertain."""
import json
import os.path as osp

import numpy as np
import pytest
from fer_test_utils import CONFIG, build_model, save_checkpoint
from onnx_test_utils import tiny_onnx
from tool_runner import run_tool

from dan_mm.evaluation.calibration import apply_temperature
from dan_mm.evaluation.temperature import (checkpoint_temperature,
                                           model_temperature, onnx_temperature,
                                           save_calibrated_checkpoint,
                                           set_onnx_temperature)
from dan_mm.inference import FERInferencer
from dan_mm.inference.predictions import (face_record, mark_uncertain,
                                          set_prediction)
from dan_mm.utils.checkpoint import load_checkpoint_file
from dan_mm.visualization.fer_drawing import face_label

CALIBRATE = 'tools/analysis_tools/calibrate.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('calib') / 'dan.pth'
    return save_checkpoint(build_model(), path)


def test_temperature_survives_the_checkpoint(checkpoint, tmp_path):
    assert checkpoint_temperature(checkpoint) is None
    out = str(tmp_path / 'calibrated.pth')
    save_calibrated_checkpoint(checkpoint, out, dict(temperature=1.7))
    assert checkpoint_temperature(out) == pytest.approx(1.7)
    loaded = load_checkpoint_file(out)  # still weights-only loadable
    assert loaded['meta']['dataset_meta']['classes'][0] == 'Surprise'
    assert set(loaded['state_dict']) == set(
        load_checkpoint_file(checkpoint)['state_dict'])
    # in place, twice: the last one counts, nothing half-written left
    save_calibrated_checkpoint(out, out, dict(temperature=0.5))
    assert checkpoint_temperature(out) == pytest.approx(0.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['calibrated.pth']


def test_temperature_in_onnx_metadata(tmp_path):
    path = tiny_onnx(tmp_path / 'm.onnx')
    assert onnx_temperature(path) is None
    set_onnx_temperature(path, 2.25)
    set_onnx_temperature(path, 2.5)  # replaced, not added
    assert onnx_temperature(path) == 2.5
    import onnx
    keys = [p.key for p in onnx.load(path).metadata_props]
    assert keys == ['dan_mm.temperature']
    # an ONNX file's own temperature wins over the checkpoint's
    t, note = model_temperature(None, None, path)
    assert t == 2.5 and path in note


def test_uncertain_exactly_below_the_threshold():
    scores = np.array([0.6, 0.3, 0.1], np.float32)
    face = dict(box=[0, 0, 1, 1], crop_box=[0, 0, 1, 1])
    set_prediction(face, scores, ['A', 'B', 'C'])
    assert 'uncertain' not in face  # no threshold: as before
    assert 'uncertain' not in face_record(face)
    p = float(scores[0])
    assert mark_uncertain(face, p)['uncertain'] is False  # at: certain
    assert mark_uncertain(face, np.nextafter(p, 1))['uncertain'] is True
    assert face['pred_class'] == 'A'  # class and probabilities stay
    assert face_record(face)['uncertain'] is True
    assert face_label(face, 2) == '#2 ? 0.60'
    assert mark_uncertain(face, 0.5)['uncertain'] is False
    assert face_label(face, 2) == '#2 A 0.60'


@pytest.mark.slow
def test_inference_applies_the_models_temperature(checkpoint, tmp_path):
    crops = np.random.default_rng(0).integers(0, 255, (2, 80, 80, 3), np.uint8)
    raw = FERInferencer(CONFIG, checkpoint, no_detect=True)
    assert raw.temperature is None and raw.calibration_note is None
    calibrated_ckpt = str(tmp_path / 'calibrated.pth')
    save_calibrated_checkpoint(checkpoint, calibrated_ckpt,
                               dict(temperature=3.0))
    calibrated = FERInferencer(
        CONFIG, calibrated_ckpt, no_detect=True, min_confidence=0.99)
    assert calibrated.temperature == 3.0
    assert 'temperature 3.000' in calibrated.calibration_note
    want = [f['pred_scores'] for r in raw(list(crops)) for f in r['faces']]
    got = [f for r in calibrated(list(crops)) for f in r['faces']]
    for face, scores in zip(got, want):
        np.testing.assert_allclose(
            face['pred_scores'], apply_temperature(scores, 3.0), atol=1e-5)
        assert face['uncertain'] is (face['pred_score'] < 0.99)
    off = FERInferencer(CONFIG, calibrated_ckpt, no_detect=True, temperature=1)
    assert off.temperature is None


@pytest.mark.slow
def test_calibrate_tool_fits_on_the_calibration_set_and_exports_carry_it(
        checkpoint, synthfer_root, tmp_path):
    from dan_mm.deployment.quantize import quantize_onnx
    from dan_mm.utils.config import load_config
    options = [
        '--cfg-options', f'test_dataloader.dataset.data_root={synthfer_root}',
        f'val_dataloader.dataset.data_root={synthfer_root}'
    ]
    # SynthFER validates on its test split: refused in one line
    code, _, stderr = run_tool(CALIBRATE, CONFIG, checkpoint, *options)
    assert code == 1
    assert stderr.count('\n') == 1 and 'test split' in stderr
    assert '--calib-root DIR' in stderr

    from dan_mm.synthfer import generate_synthfer
    calib_root = str(tmp_path / 'calib_set')
    generate_synthfer(
        calib_root, num_train=0, num_test=21, seed=5, size=64, progress=False)
    out = str(tmp_path / 'out' / 'dan_calibrated.pth')
    code, stdout, stderr = run_tool(CALIBRATE, CONFIG, checkpoint,
                                    '--calib-root', calib_root, '--out', out,
                                    *options)
    assert code == 0, stderr
    report = json.loads(
        open(osp.join(tmp_path, 'out',
                      'dan_calibrated_calibration.json')).read())
    assert report['num_calibration'] == 21  # not the 14 test faces
    assert report['test']['num_samples'] == 14
    assert report['test']['after']['nll'] <= report['test']['before'][
        'nll'] + 0.5  # judged on other faces than fitted on
    assert osp.getsize(report['figure']) > 1000
    temperature = checkpoint_temperature(out)
    assert temperature == pytest.approx(report['temperature'])
    assert f'temperature {temperature:.4f}' in stdout

    # ONNX and int8 exports of the calibrated checkpoint carry it
    from dan_mm.runtime import export_checkpoint
    cfg = load_config(CONFIG)
    cfg.test_dataloader.dataset.data_root = synthfer_root
    cfg.train_dataloader.dataset.data_root = synthfer_root
    fp32 = str(tmp_path / 'dan.onnx')
    assert export_checkpoint(cfg, out, fp32)['temperature'] == temperature
    assert onnx_temperature(fp32) == pytest.approx(temperature)
    int8 = str(tmp_path / 'dan.int8.onnx')
    quantize_onnx(
        cfg, out, int8, num_calib=4, min_agreement=0, log=lambda *a: None)
    assert onnx_temperature(int8) == pytest.approx(temperature)
    # and ONNX Runtime inference on the int8 file applies it
    inferencer = FERInferencer(
        CONFIG, checkpoint, no_detect=True, onnx_file=int8)
    assert inferencer.temperature == pytest.approx(temperature)
    assert int8 in inferencer.calibration_note
