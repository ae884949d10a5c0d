"""int8 ONNX export: the arithmetic chosen per CPU, the calibration faces,
the agreement report and the refusal below ``--min-agreement``."""
import json

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from fer_test_utils import CONFIG, build_model, save_checkpoint
from mmengine.config import Config
from mmpretrain.registry import MODELS
from tool_runner import run_tool

from dan_mm.deployment import quantize
from dan_mm.utils import environment
from dan_mm.utils.errors import ConfigError, DataError, UserError

QUANTIZE = 'tools/deployment/quantize_onnx.py'
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


@pytest.mark.parametrize(
    'flags, reduce_range',
    [
        ({'avx2', 'fma', 'avx512f', 'avx512_vnni'}, False),
        ({'avx2', 'fma', 'avx_vnni'}, False),
        ({'avx2', 'fma', 'avx512f', 'avx512bw'}, True),  # Zen 3, Skylake-X
        (set(), True),  # unknown CPU: the safe choice
    ])
def test_arithmetic_needs_vnni_for_full_8_bit_weights(flags, reduce_range):
    choice = quantize.choose_arithmetic(flags)
    assert choice['reduce_range'] is reduce_range
    assert (choice['activation_type'], choice['weight_type']) == ('uint8',
                                                                  'int8')
    assert ('reduce_range' in choice['name']) is reduce_range
    assert ('no VNNI' in choice['reason']) is reduce_range


def test_cpu_flags_and_name_come_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nvendor_id\t: AuthenticAMD\n'
                       'cpu family\t: 25\nmodel\t\t: 1\n'
                       'model name\t: AMD EPYC 7B13\n'
                       'flags\t\t: fpu avx2 fma\n\nprocessor\t: 1\n'
                       'flags\t\t: fpu avx2 fma avx512_vnni\n')
    assert environment.cpu_flags(str(cpuinfo)) == {'fpu', 'avx2', 'fma'}
    assert quantize.choose_arithmetic(environment.cpu_flags(
        str(cpuinfo)))['reduce_range']
    assert environment.cpu_name(
        str(cpuinfo)) == 'AMD EPYC 7B13 (family 25, model 1)'
    assert environment.cpu_flags(str(tmp_path / 'none')) == frozenset()


def test_calib_dir_reads_every_image_through_the_test_pipeline(tmp_path):
    rng = np.random.default_rng(0)
    images = {
        'a.png': rng.integers(0, 256, (50, 70, 3), dtype=np.uint8),
        'b.jpg': rng.integers(0, 256, (120, 90, 3), dtype=np.uint8),
        'sub/c.PNG': rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
    }
    for name, img in images.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        cv2.imwrite(str(tmp_path / name), img)
    (tmp_path / 'notes.txt').write_text('not an image')
    cfg = Config.fromfile(CONFIG)

    samples = quantize.folder_samples(cfg, str(tmp_path))
    assert len(samples) == 3  # the text file is no image
    assert all(s['inputs'].shape == (3, 80, 80) for s in samples)
    assert len(quantize.folder_samples(cfg, str(tmp_path), limit=2)) == 2

    # The graph's input: RGB, (v - mean) / std, as the model normalises.
    preprocessor = MODELS.build(
        dict(type='ClsDataPreprocessor', **cfg.data_preprocessor))
    batches = quantize.calibration_batches(
        cfg, preprocessor, str(tmp_path), num_calib=3, batch_size=2)
    assert [b.shape for b in batches] == [(2, 3, 80, 80), (1, 3, 80, 80)]
    assert all(b.dtype == np.float32 for b in batches)
    bgr = samples[0]['inputs'].numpy()  # (3, H, W), BGR uint8
    expected = (bgr[::-1].transpose(1, 2, 0) - MEAN) / STD
    np.testing.assert_allclose(
        batches[0][0].transpose(1, 2, 0), expected, atol=1e-4)

    reader = quantize.FaceCalibrationReader(batches)
    got = [reader.get_next() for _ in range(3)]
    assert got[2] is None and got[1]['input'] is batches[1]
    reader.rewind()
    assert reader.get_next()['input'] is batches[0]


def test_calib_dir_without_images_and_bad_options_are_refused(tmp_path):
    cfg = Config.fromfile(CONFIG)
    (tmp_path / 'notes.txt').write_text('not an image')
    with pytest.raises(DataError, match='--calib-dir .* holds no image'):
        quantize.folder_samples(cfg, str(tmp_path))
    with pytest.raises(DataError, match='is not a folder'):
        quantize.folder_samples(cfg, str(tmp_path / 'notes.txt'))
    with pytest.raises(ConfigError, match='--num-calib 0'):
        quantize.check_options(0, 'minmax', 2, 'train')
    with pytest.raises(ConfigError, match='--calib-method entropy'):
        quantize.check_options(8, 'entropy', 2, 'train')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('quantize') / 'dan.pth'
    return save_checkpoint(build_model(), path)


def data_options(root):
    return [
        '--cfg-options', f'test_dataloader.dataset.data_root={root}',
        f'train_dataloader.dataset.data_root={root}'
    ]


@pytest.mark.slow
def test_quantize_writes_int8_and_its_agreement(checkpoint, synthfer_root,
                                                tmp_path):
    calib = tmp_path / 'faces'
    calib.mkdir()
    for i in range(5):  # a user's own faces, of another size
        cv2.imwrite(
            str(calib / f'{i}.png'), np.full((100, 90, 3), 40 * i, np.uint8))
    out = tmp_path / 'out' / 'dan.int8.onnx'
    code, stdout, stderr = run_tool(QUANTIZE, CONFIG, checkpoint, '--out', out,
                                    '--calib-dir', calib, '--min-agreement', 0,
                                    *data_options(synthfer_root))
    assert code == 0, stderr
    assert sum(
        line.startswith('int8 arithmetic: ')
        for line in stdout.splitlines()) == 1

    report = json.loads((tmp_path / 'out' / 'dan.int8.json').read_text())
    predictions = report['predictions']
    labels, p32, p8 = (
        np.array(predictions[k]) for k in ('labels', 'fp32', 'int8'))
    assert report['test_faces'] == len(labels) == 14
    assert report['calibration_faces'] == 5
    assert 0 <= report['agreement'] <= 1
    assert report['agreement'] == pytest.approx((p32 == p8).mean(), abs=1e-6)
    assert report['top1_fp32'] == pytest.approx(
        (p32 == labels).mean(), abs=1e-6)
    assert report['top1_low'] == pytest.approx((p8 == labels).mean(), abs=1e-6)
    for key in ('macro_f1_fp32', 'macro_f1_int8', 'mean_logit_cosine'):
        assert 0 <= report[key] <= 1, key
    assert report['arithmetic'] == quantize.choose_arithmetic(
        environment.cpu_flags())
    assert report['cpu'] == environment.cpu_name()

    # A QDQ graph with the fp32 graph's interface (dynamic batch).
    graph = onnx.load(str(out)).graph
    ops = {node.op_type for node in graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= ops
    session = ort.InferenceSession(
        str(out), providers=['CPUExecutionProvider'])
    (logits, ) = session.run(None,
                             {'input': np.zeros((3, 3, 80, 80), np.float32)})
    assert logits.shape == (3, 7)


@pytest.mark.slow
def test_quantize_below_min_agreement_keeps_no_file(checkpoint, synthfer_root,
                                                    tmp_path):
    cfg = Config.fromfile(CONFIG)
    cfg.test_dataloader.dataset.data_root = synthfer_root
    cfg.train_dataloader.dataset.data_root = synthfer_root
    out = tmp_path / 'dan.int8.onnx'
    lines = []
    # No VNNI (as on Zen 3): the reduce_range arithmetic, whatever runs it.
    refused = 'below --min-agreement 1.01; kept no file; try --calib-method'
    with pytest.raises(UserError, match=refused):
        quantize.quantize_onnx(
            cfg,
            checkpoint,
            str(out),
            num_calib=8,
            min_agreement=1.01,
            flags={'avx2'},
            log=lines.append)
    assert lines[0].startswith('int8 arithmetic: u8s8_reduce_range')
    assert list(tmp_path.iterdir()) == []  # neither .onnx nor .json
