"""tools/analysis_tools/benchmark.py runs (tiny iteration counts) and reports
the three parts (and an ONNX export with --onnx); --agreement compares fp32
and bf16 over a data set."""
import re

import pytest
from fer_test_utils import (CONFIG, REPO, build_model, call_tool, run_tool,
                            save_checkpoint)

BENCHMARK = 'tools/analysis_tools/benchmark.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Weights to load: without them the tool runs mmengine's (slow) init."""
    path = tmp_path_factory.mktemp('benchmark') / 'dan.pth'
    return save_checkpoint(build_model(), path)


# bf16 without --deploy: oneDNN's first bf16 grouped convolution takes
# seconds to prepare, and the fused heads are tested in fp32 here.
@pytest.mark.parametrize(
    'precision,extra', [('fp32', ['--deploy', '--channels-last']),
                        ('bf16', [])],
    ids=['fp32-deploy-channels-last', 'bf16'])
def test_benchmark_reports_every_part(checkpoint, precision, extra):
    code, stdout, stderr = call_tool(BENCHMARK, CONFIG, '--checkpoint',
                                     checkpoint, *extra, '--batch-size', 1,
                                     '--image-size', 32, '--iters', 2,
                                     '--warmup', 1, '--precision', precision)
    assert code == 0, stderr
    assert re.search(r'\d+ threads', stdout)
    assert f'precision={precision}' in stdout
    for part in ('model', 'neck+head', 'backbone'):
        line = re.search(rf'^{re.escape(part)} .* img/s .*p50.*p90.*p99',
                         stdout, re.M)
        assert line, stdout


def test_a_plain_classifier_is_timed_whole():
    code, stdout, stderr = call_tool(
        BENCHMARK, f'{REPO}/configs/resnet18_linear_synthfer.py',
        '--batch-size', 1, '--image-size', 32, '--iters', 1, '--warmup', 0)
    assert code == 0, stderr
    assert 'ImageClassifier is not DAN' in stdout
    assert re.search(r'^model .* img/s', stdout, re.M)
    assert not re.search(r'^backbone ', stdout, re.M)


def test_random_weights_need_no_pretrained_file(tmp_path, monkeypatch):
    # the RAF-DB recipe starts from checkpoints/resnet18_msceleb.pth, which
    # a benchmark of random weights must not read
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = call_tool(BENCHMARK,
                                     f'{REPO}/configs/dan_r18_rafdb.py',
                                     '--batch-size', 1, '--image-size', 32,
                                     '--iters', 1, '--warmup', 0)
    assert code == 0, stderr
    assert re.search(r'^model .* img/s', stdout, re.M)


def test_bf16_agreement(checkpoint, synthfer_root):
    code, stdout, stderr = call_tool(
        BENCHMARK, CONFIG, '--checkpoint', checkpoint, '--agreement',
        '--batch-size', 4, '--max-samples', 8, '--cfg-options',
        f'test_dataloader.dataset.data_root={synthfer_root}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False')
    assert code == 0, stderr
    match = re.search(
        r'(\d+) images: fp32 vs bf16 predicted class agrees '
        r'on ([\d.]+)%', stdout)
    assert match, stdout
    assert int(match.group(1)) == 8 and 0 <= float(match.group(2)) <= 100


def test_user_errors_are_one_line(tmp_path):
    code, _, stderr = call_tool(BENCHMARK, CONFIG, '--checkpoint',
                                tmp_path / 'nope.pth')
    assert (code, stderr.strip()) == (
        1, f'error: checkpoint not found: {tmp_path / "nope.pth"}')
    code, _, stderr = call_tool(BENCHMARK, CONFIG, '--precision', 'int8')
    assert code == 2 and "invalid choice: 'int8'" in stderr


@pytest.mark.slow
def test_benchmark_times_an_onnx_export(checkpoint, tmp_path):
    onnx_file = tmp_path / 'dan.onnx'
    export = run_tool('tools/deployment/pytorch2onnx.py', CONFIG, checkpoint,
                      onnx_file, '--deploy', '--image-size', 32, '--no-verify')
    assert export.returncode == 0, export.stderr
    result = run_tool(BENCHMARK, CONFIG, '--deploy', '--onnx', onnx_file,
                      '--batch-size', 2, '--image-size', 32, '--iters', 2,
                      '--warmup', 1)
    assert result.returncode == 0, result.stderr
    assert re.search(r'^onnxruntime .* img/s .*p50.*p99', result.stdout,
                     re.M), result.stdout
