"""ONNX Runtime as FERInferencer's backend: the same predictions as PyTorch
(API and predictions.jsonl), the deploy export cached by checkpoint hash,
one error line for a file of another model, and ``--backend pytorch``
always running PyTorch."""
import json

import cv2
import numpy as np
import pytest
from fer_test_utils import (CLASSES, CONFIG, build_model, error_lines,
                            face_photo, save_checkpoint)
from onnx_test_utils import tiny_onnx
from tool_runner import run_tool

from dan_mm.inference import FERInferencer
from dan_mm.runtime.onnx_backend import (CACHE_ENV, OnnxModelError,
                                         OnnxRuntimeBackend)
from dan_mm.utils.errors import ConfigError, UserError

INFER = 'tools/infer.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('onnx') / 'dan.pth'
    return save_checkpoint(build_model(), path)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / 'cache'))
    return tmp_path / 'cache'


def test_a_good_file_loads_and_bad_ones_are_one_line(tmp_path):
    backend = OnnxRuntimeBackend(tiny_onnx(tmp_path / 'ok.onnx'), 80, 7, 1)
    assert backend.num_threads == 1 and backend.name == 'onnxruntime'
    cases = [
        (tiny_onnx(tmp_path / 'size.onnx', image_size=64), 'shape'),
        (tiny_onnx(tmp_path / 'classes.onnx', num_classes=3), '3 logits'),
        (str(tmp_path / 'missing.onnx'), 'not found'),
    ]
    (tmp_path / 'text.onnx').write_text('not a model')
    cases.append((str(tmp_path / 'text.onnx'), 'not an ONNX model'))
    for path, match in cases:
        with pytest.raises(OnnxModelError, match=match) as info:
            OnnxRuntimeBackend(path, 80, 7)
        message = str(info.value)
        assert isinstance(info.value, UserError)
        assert '\n' not in message and path in message


def test_onnxruntime_needs_fp32_on_the_cpu(checkpoint, tmp_path):
    onnx_file = tiny_onnx(tmp_path / 'ok.onnx')
    with pytest.raises(ConfigError, match="backend='pytorch'"):
        FERInferencer(
            CONFIG, checkpoint, onnx_file=onnx_file, precision='bf16')
    with pytest.raises(ConfigError, match='unknown backend'):
        FERInferencer(CONFIG, checkpoint, backend='tensorrt')


@pytest.mark.slow
def test_agrees_with_pytorch_and_caches_the_export(checkpoint, cache):
    torch_inferencer = FERInferencer(CONFIG, checkpoint)
    onnx_inferencer = FERInferencer(
        CONFIG, checkpoint, backend='onnxruntime', num_threads=1)
    assert onnx_inferencer.backend.exported
    assert onnx_inferencer.backend.num_threads == 1
    (cached, ) = cache.iterdir()  # <sha256[:16]>-<size>.onnx
    assert cached.name.endswith('-80.onnx') and len(cached.stem) == 19
    photos = [face_photo(128), face_photo(96)[:, ::-1].copy()]
    expected = torch_inferencer(photos, return_maps=True)
    got = onnx_inferencer(photos, return_maps=True)
    for e, g in zip(expected, got):
        (fe, ), (fg, ) = e['faces'], g['faces']
        assert fg['pred_label'] == fe['pred_label']
        np.testing.assert_allclose(
            fg['pred_scores'], fe['pred_scores'], atol=1e-4)
        # attention maps are PyTorch's
        np.testing.assert_allclose(
            fg['attention_maps'], fe['attention_maps'], atol=1e-4)
    again = FERInferencer(CONFIG, checkpoint, backend='onnxruntime')
    assert not again.backend.exported
    assert again.backend.onnx_file == str(cached)


def write_clip(path, num_frames=4):
    photo = face_photo(96)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'MJPG'), 5, (200, 160))
    for t in range(num_frames):
        frame = np.full((160, 200, 3), 90, np.uint8)
        frame[10:10 + photo.shape[0],
              10 + 3 * t:10 + 3 * t + photo.shape[1]] = photo
        writer.write(frame)
    writer.release()
    return str(path)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_infer_picks_onnxruntime_for_every_source_and_pytorch_when_told(
        checkpoint, cache, tmp_path):
    clip = write_clip(tmp_path / 'clip.avi')
    code, out, err = run_tool(INFER, CONFIG, checkpoint, clip, '--out-dir',
                              tmp_path / 'fast')
    assert code == 0, err
    (line, ) = [x for x in out.splitlines() if 'ONNX Runtime' in x]
    assert 'exported now' in line and str(cache) in line
    code, out, err = run_tool(INFER, CONFIG, checkpoint, clip, '--out-dir',
                              tmp_path / 'torch', '--backend', 'pytorch',
                              '--onnx', tiny_onnx(tmp_path / 'x.onnx'))
    assert code == 0, err
    assert 'ONNX Runtime' not in out and 'is not used' in out
    fast = read_jsonl(tmp_path / 'fast' / 'predictions.jsonl')
    slow = read_jsonl(tmp_path / 'torch' / 'predictions.jsonl')
    assert len(fast) == len(slow) == 4
    for a, b in zip(fast, slow):
        (fa, ), (fb, ) = a['faces'], b['faces']
        assert fa['pred_class'] == fb['pred_class']
        assert fa['box'] == fb['box'] and fa['track_id'] == fb['track_id']
        for name in CLASSES:
            assert fa['pred_scores'][name] == pytest.approx(
                fb['pred_scores'][name], abs=1e-4)
    # a photo follows the same rule (the export is cached by now) ...
    photo = tmp_path / 'face.png'
    cv2.imwrite(str(photo), face_photo(128))
    code, out, err = run_tool(INFER, CONFIG, checkpoint, photo, '--out-dir',
                              tmp_path / 'photo')
    assert code == 0, err
    (line, ) = [x for x in out.splitlines() if 'ONNX Runtime' in x]
    assert 'cached in' in line
    # ... and attention maps are PyTorch's, which then classifies
    code, out, err = run_tool(INFER, CONFIG, checkpoint, photo, '--out-dir',
                              tmp_path / 'heads', '--show-heads')
    assert code == 0 and 'ONNX Runtime' not in out


def test_infer_refuses_a_bad_onnx_file_in_one_line(checkpoint, tmp_path):
    photo = tmp_path / 'face.png'
    cv2.imwrite(str(photo), face_photo(128))
    wrong = tiny_onnx(tmp_path / 'wrong.onnx', num_classes=3)
    code, out, err = run_tool(INFER, CONFIG, checkpoint, photo, '--out-dir',
                              tmp_path / 'out', '--onnx', wrong)
    assert code == 1
    (line, ) = error_lines(err)
    assert wrong in line and '3 logits' in line and '7 classes' in line
    # a valid file of the right shape classifies (with its own weights)
    right = tiny_onnx(tmp_path / 'right.onnx')
    code, out, err = run_tool(INFER, CONFIG, checkpoint, photo, '--out-dir',
                              tmp_path / 'out', '--onnx', right)
    assert code == 0, err
    (record, ) = read_jsonl(tmp_path / 'out' / 'predictions.jsonl')
    scores = record['faces'][0]['pred_scores']  # equal logits: uniform
    assert all(p == pytest.approx(1 / 7, abs=1e-5) for p in scores.values())


def test_one_backend_rule_for_every_source():
    """The source does not matter: the device, precision and maps do."""
    from dan_mm.runtime import choose_backend
    assert choose_backend(device='cpu') == 'onnxruntime'
    assert choose_backend(onnx_file='m.onnx') == 'onnxruntime'
    # an explicit backend always wins
    assert choose_backend('pytorch', 'm.onnx', 'cpu') == 'pytorch'
    assert choose_backend(device='cuda:0') == 'pytorch'
    assert choose_backend(device='cpu', precision='bf16') == 'pytorch'
    # maps are PyTorch's, which then classifies too (one pass)
    assert choose_backend(device='cpu', return_maps=True) == 'pytorch'
