"""dan_mm.analysis.benchmark in process (tiny iteration counts): the three
parts, the JSON-ready result and its environment record, the agreement over
the test pipeline; and tools/analysis_tools/benchmark.py once as a real
process (a quiet log, ``--out``)."""
import io
import json
import re

import pytest
from fer_test_utils import CONFIG, REPO, build_model, save_checkpoint
from mmengine.config import Config
from tool_runner import run_tool

from dan_mm.analysis import (AgreementRun, ModelSetup, SpeedRun,
                             benchmark_agreement, benchmark_speed_of_config)
from dan_mm.utils.environment import environment_record
from dan_mm.utils.errors import ConfigError

BENCHMARK = 'tools/analysis_tools/benchmark.py'
ROW = r'^{} +[\d.]+ img/s +p50 +[\d.]+ ms +p90 +[\d.]+ ms +p99 +[\d.]+ ms$'
TINY = SpeedRun(batch_size=1, image_size=32, iters=2, warmup=1)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Weights to load: without them the benchmark runs mmengine's (slow)
    init."""
    path = tmp_path_factory.mktemp('benchmark') / 'dan.pth'
    return save_checkpoint(build_model(), path)


def bench(config=CONFIG, run=TINY, **setup):
    """``(result, printed lines)`` of a speed run on ``config``."""
    lines = []
    result = benchmark_speed_of_config(
        Config.fromfile(config), ModelSetup(**setup), run, lines.append)
    return result, lines


# bf16 without deploy: oneDNN's first bf16 grouped convolution takes
# seconds to prepare, and the fused heads are tested in fp32 here.
@pytest.mark.parametrize(
    'precision,fast', [('fp32', True), ('bf16', False)],
    ids=['fp32-deploy-channels-last', 'bf16'])
def test_benchmark_reports_every_part(checkpoint, precision, fast):
    result, lines = bench(
        checkpoint=checkpoint,
        precision=precision,
        deploy=fast,
        channels_last=fast)
    assert json.loads(json.dumps(result)) == result
    assert result['mode'] == 'speed' and result['model'] == 'DAN'
    assert (result['precision'], result['deploy'],
            result['channels_last']) == (precision, fast, fast)
    assert result['batch_size'] == 1 and result['input_size'] == [32, 32]
    assert result['threads'] >= 1 and result['device'] == 'cpu'
    assert result['cpu'] and result['cpu'] == result['device_name']
    assert set(environment_record()) <= set(result)
    assert result['mmpretrain'] and result['cuda_device'] is None
    assert (result['warmup'], result['iters']) == (1, 2)
    parts = result['parts']
    assert [p['part'] for p in parts] == ['model', 'neck+head', 'backbone']
    for part in parts:
        assert part['images_per_s'] > 0
        assert 0 < part['p50_ms'] <= part['p90_ms'] <= part['p99_ms']
    text = '\n'.join(lines)
    assert f'{result["threads"]} threads' in text
    assert f'precision={precision}, 32x32 random images, 1 warm-up + 2 ' \
           'timed iterations' in lines[0]
    for part in ('model', 'neck\\+head', 'backbone'):
        assert re.search(ROW.format(part), text, re.M), text


def test_a_plain_classifier_is_timed_whole():
    result, lines = bench(f'{REPO}/configs/resnet18_linear_synthfer.py',
                          SpeedRun(1, 32, iters=1, warmup=0))
    assert 'ImageClassifier is not DAN: timing the whole model only' in lines
    assert [p['part'] for p in result['parts']] == ['model']


def test_random_weights_need_no_pretrained_file(tmp_path, monkeypatch):
    # the RAF-DB recipe starts from checkpoints/resnet18_msceleb.pth, which
    # a benchmark of random weights must not read
    monkeypatch.chdir(tmp_path)
    result, _ = bench(f'{REPO}/configs/dan_r18_rafdb.py',
                      SpeedRun(1, 32, iters=1, warmup=0))
    assert result['parts'][0]['images_per_s'] > 0


@pytest.mark.slow
def test_bf16_agreement_runs_the_test_pipeline(checkpoint, synthfer_root):
    cfg = Config.fromfile(CONFIG)
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.data_root = synthfer_root
    lines = []
    result = benchmark_agreement(cfg, ModelSetup(checkpoint),
                                 AgreementRun(batch_size=4, max_samples=8),
                                 lines.append)
    # what it does, not a speed run's header
    assert lines[0].endswith(
        'fp32 vs bf16 predicted-class agreement over 8 test images of 80x80 '
        "(the config's test pipeline); nothing is timed"), lines[0]
    assert 'timed iterations' not in '\n'.join(lines)
    agreement = result['agreement']
    assert result['mode'] == 'agreement' and result['precision'] == 'bf16'
    assert result['input_size'] == agreement['input_size'] == [80, 80]
    assert agreement['images'] == 8 and 0 <= agreement['agreement'] <= 1
    assert 'parts' not in result and 'iters' not in result
    assert re.match(
        r'8 images: fp32 vs bf16 predicted class agrees on '
        r'[\d.]+%; top-1 fp32 [\d.]+%, bf16 [\d.]+%', lines[1])


def test_user_errors():
    with pytest.raises(ConfigError, match='--agreement needs --checkpoint'):
        benchmark_agreement(Config.fromfile(CONFIG), ModelSetup())
    cfg = Config.fromfile(f'{REPO}/configs/resnet18_linear_synthfer.py')
    with pytest.raises(
            ConfigError,
            match=r'^deploy=True: ImageClassifier has no switch_to_deploy\(\)'
    ):
        benchmark_speed_of_config(cfg, ModelSetup(deploy=True), TINY)


@pytest.mark.slow
def test_the_tool_prints_its_table_only_and_writes_json(tmp_path):
    """mmengine's init log (about 600 lines) stays out of the output."""
    out = tmp_path / 'bench.json'
    proc = run_tool(
        BENCHMARK,
        CONFIG,
        '--batch-size',
        1,
        '--image-size',
        32,
        '--iters',
        1,
        '--warmup',
        0,
        '--out',
        out,
        in_process=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5, proc.stdout  # settings, header, three parts
    assert 'init' not in proc.stdout + proc.stderr
    assert re.match(ROW.format('backbone'), lines[-1])
    result = json.loads(out.read_text())
    assert result['mode'] == 'speed' and len(result['parts']) == 3
    proc = run_tool(
        BENCHMARK,
        CONFIG,
        '--checkpoint',
        tmp_path / 'nope.pth',
        in_process=False)
    assert (proc.returncode, proc.stderr.strip().splitlines()[-1]) == (
        1, f'error: checkpoint not found: {tmp_path / "nope.pth"}')


@pytest.mark.slow
def test_benchmark_times_an_onnx_export(checkpoint, tmp_path):
    onnx_file = tmp_path / 'dan.onnx'
    export = run_tool(
        'tools/deployment/pytorch2onnx.py',
        CONFIG,
        checkpoint,
        onnx_file,
        '--deploy',
        '--image-size',
        32,
        '--no-verify',
        in_process=False)
    assert export.returncode == 0, export.stderr
    result, lines = bench(
        run=SpeedRun(2, 32, iters=2, warmup=1, onnx=str(onnx_file)),
        deploy=True)
    assert result['parts'][-1]['part'] == 'onnxruntime'
    assert re.search(ROW.format('onnxruntime'), '\n'.join(lines), re.M)


def test_cpu_name_has_family_and_model(monkeypatch):
    """A VM's bare "AMD EPYC" gets the numbers that tell Zen 1 from Zen 4;
    only the first processor is read."""
    from dan_mm.utils import environment
    cpuinfo = ('processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n'
               'model\t\t: 1\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\n'
               'model name\t: other\n')
    monkeypatch.setattr(
        environment,
        'open',
        lambda *a, **k: io.StringIO(cpuinfo),
        raising=False)
    assert environment.cpu_name() == 'AMD EPYC (family 25, model 1)'
    record = environment.environment_record()
    assert record['cpu'] == 'AMD EPYC (family 25, model 1)'
    assert record['threads'] >= 1 and record['mmpretrain'] == '1.2.0'
    assert record['date'].endswith('+00:00')  # UTC
