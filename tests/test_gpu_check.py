""".ci/gpu/gpu_check.sh / gpu_check.py, the GPU check (a development
harness, not in the wheel): the parsers of every number (including the
GPU-only ones, on recorded output), part budgets and failures, and the
whole check as a CPU dry run."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from fer_test_utils import HARNESS, REPO, import_harness
from mmengine.config import Config

from dan_mm.analysis import summarize
from dan_mm.utils.environment import environment_record


@pytest.fixture(scope='module')
def tool():
    return import_harness('gpu_check')


def write_scalars(work_dir, records):
    folder = osp.join(work_dir, '20260101_000000', 'vis_data')
    os.makedirs(folder)
    with open(osp.join(folder, 'scalars.json'), 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def train_record(i, time, data_time, memory=None, loss=1.0):
    record = dict(
        lr=0.1,
        data_time=data_time,
        loss=loss,
        loss_cls=loss / 2,
        loss_af=0.3,
        loss_pt=0.2,
        time=time,
        iter=i,
        step=i)
    if memory is not None:  # mmengine logs it on CUDA only
        record['memory'] = memory
    return record


def test_train_speed_skips_warmup_and_reads_cuda_memory(tool, tmp_path):
    records = [train_record(1, 2.0, 1.5, 900), train_record(2, 0.5, 0.2, 950)]
    records += [train_record(i, 0.1, 0.01, 940) for i in range(3, 7)]
    write_scalars(tmp_path, records)
    metrics, error = tool.train_speed(str(tmp_path), 256, skip=2)
    assert error is None
    assert metrics['measured_iterations'] == 4
    assert metrics['images_per_s'] == pytest.approx(2560, rel=1e-3)
    assert metrics['data_share'] == pytest.approx(0.1)
    assert metrics['step_ms'] == pytest.approx(100)
    assert metrics['peak_memory_mib'] == 950  # the peak of every record
    assert metrics['losses']['loss_pt'] == 0.2


def test_train_speed_flags_non_finite_losses_and_short_logs(tool, tmp_path):
    write_scalars(tmp_path / 'a', [
        train_record(1, 0.1, 0.01),
        train_record(2, 0.1, 0.01, loss=math.nan)
    ])
    metrics, error = tool.train_speed(str(tmp_path / 'a'), 2, skip=1)
    assert 'non-finite' in error and metrics['peak_memory_mib'] is None
    write_scalars(tmp_path / 'b', [train_record(1, 0.1, 0.01)])
    _, error = tool.train_speed(str(tmp_path / 'b'), 2, skip=1)
    assert '1 iterations logged' in error


def test_benchmark_json_is_read(tool, tmp_path):
    """The harness reads what ``benchmark.py --out`` writes, not text."""
    parts = [
        summarize(name, np.full(4, seconds), 256)
        for name, seconds in (('model', 0.05), ('neck+head', 0.01),
                              ('backbone', 0.04))
    ]
    out = tmp_path / 'bench.json'
    out.write_text(json.dumps(dict(mode='speed', parts=parts)))
    metrics, error = tool.benchmark_speed(str(out))
    assert error is None
    assert metrics == pytest.approx(
        dict(model=5120.0, backbone=6400.0, **{'neck+head': 25600.0}))
    out.write_text(json.dumps(dict(mode='speed', parts=parts[1:])))
    assert 'no "model" part' in tool.benchmark_speed(str(out))[1]


def test_its_configs_inherit_the_recipes(tool):
    """Real config files: the RAF-DB recipe for speed, the SynthFER recipe
    with the 224-px pipelines for the full run."""
    speed = Config.fromfile(tool.SPEED_CONFIG)
    rafdb = Config.fromfile(osp.join(REPO, 'configs', 'dan_r18_rafdb.py'))
    assert speed.train_dataloader.dataset.pipeline == \
        rafdb.train_dataloader.dataset.pipeline
    assert speed.optim_wrapper == rafdb.optim_wrapper
    assert speed.model.backbone.init_cfg is None  # no MS-Celeb file there
    assert speed.train_dataloader.sampler.type == 'InfiniteSampler'
    assert speed.train_cfg.type == 'IterBasedTrainLoop'
    full = Config.fromfile(tool.FULL_CONFIG)
    synthfer = Config.fromfile(
        osp.join(REPO, 'configs', 'dan_r18_synthfer.py'))
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert full[key] == synthfer[key], key
    train = full.train_dataloader.dataset.pipeline
    assert [t['type'] for t in train] == [
        t['type'] for t in synthfer.train_dataloader.dataset.pipeline
    ]  # no random erasing
    assert train[1]['scale'] == (224, 224)
    assert full.test_dataloader.dataset.pipeline == \
        rafdb.test_dataloader.dataset.pipeline


def test_distributed_run_reads_the_backend(tool, tmp_path):
    write_scalars(tmp_path, [train_record(i, 0.1, 0.01) for i in (1, 2, 3)])
    (tmp_path / '20260101_000000' / '20260101_000000.log'
     ).write_text("env_cfg = dict(dist_cfg=dict(backend='nccl'))\n")
    metrics, error = tool.distributed_run(str(tmp_path), 3)
    assert error is None and metrics == dict(iterations=3, backend='nccl')
    assert '3 of 5' in tool.distributed_run(str(tmp_path), 5)[1]


def test_budgets_failures_and_skips_are_recorded(tool, tmp_path):
    check = tool.Check(str(tmp_path), 'cpu-dry-run', workers=1)
    py = sys.executable
    check.run('slow', 'sleeps', [py, '-c', 'import time; time.sleep(60)'], 1)
    check.run('bad', 'fails', [py, '-c', 'raise SystemExit(3)'], 30)
    check.run('after', 'needs bad', [py, '-c', 'pass'], 30, needs=['bad'])
    check.run('good', 'passes', [py, '-c', 'print("hi")'], 30)
    check.deadline = 0  # the overall deadline has passed
    check.run('late', 'too late', [py, '-c', 'pass'], 30)
    results = json.load(open(tmp_path / 'results.json'))
    status = {p['name']: p['status'] for p in results['parts']}
    assert status == dict(
        slow='timeout',
        bad='failed',
        after='skipped',
        good='ok',
        late='not run')
    part = check.part('slow')
    assert part['seconds'] < 20 and 'budget 1 s' in part['error']
    assert 'exit status 3' in check.part('bad')['error']
    assert 'hi' in open(tmp_path / 'logs' / 'good.log').read()
    md = open(tmp_path / 'results.md').read()
    assert '| slow | timeout |' in md and '| late | not run |' in md


def test_targets_and_tables_of_a_gpu_run(tool, tmp_path):
    check = tool.Check(str(tmp_path), 'gpu', workers=15)
    speed = dict(
        train_fp32=(1000.0, 0.02, 20000),
        train_amp=(2500.0, 0.05, 12000),
        train_amp_cl=(3500.0, 0.12, 11000))
    for name, (ips, share, mem) in speed.items():
        check.record(
            name,
            name,
            'ok',
            metrics=dict(
                batch_size=256,
                iterations=80,
                measured_iterations=60,
                images_per_s=ips,
                step_ms=1.0,
                data_ms=0.1,
                data_share=share,
                peak_memory_mib=mem,
                losses=dict(loss=1.5)))
    check.record('bench_fp16_plain', 'x', 'ok', metrics=dict(model=5500.0))
    targets = check.targets()
    assert [t['met'] for t in targets] == [True, False, True]
    assert targets[0]['value'] == pytest.approx(3.5)
    check.results['targets'] = targets
    md = tool.markdown(check.results)
    assert '| --amp + channels_last | 3500.0 |' in md
    assert '| 11000 | 1.500 | 3.50x |' in md
    assert '12.0% ' in md and '| NO |' in md
    assert '| fp16 | plain | 5500.0 |' in md


@pytest.mark.slow
def test_cpu_dry_run_writes_both_result_files(tmp_path):
    out, export = tmp_path / 'out', tmp_path / 'export'
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        PYTHONPATH=REPO,
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1')
    proc = subprocess.run([
        'bash',
        osp.join(HARNESS, 'gpu_check.sh'),
        str(out), '--cpu-dry-run', '--export',
        str(export)
    ],
                          cwd=str(tmp_path),
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    for name in ('results.json', 'results.md', 'logs.tar.gz'):
        assert (export / name).is_file(), name
    results = json.load(open(out / 'results.json'))
    assert results['mode'] == 'cpu-dry-run'
    parts = {p['name']: p for p in results['parts']}
    assert set(parts) == {
        'install', 'env', 'synthfer', 'gpu_tests', 'train_fp32', 'train_amp',
        'train_amp_cl', 'bench_fp32_plain', 'bench_bf16_deploy_cl', 'torchrun',
        'full_train', 'full_test'
    }
    for part in parts.values():
        assert part['status'] in ('ok', 'skipped'), part
    assert parts['gpu_tests']['metrics']['skipped'] >= 6  # no CUDA here
    for name in ('train_fp32', 'train_amp', 'train_amp_cl'):
        metrics = parts[name]['metrics']
        assert metrics['images_per_s'] > 0
        assert 0 <= metrics['data_share'] < 1
        assert metrics['peak_memory_mib'] is None  # CPU
        assert set(metrics['losses']) >= {'loss_cls', 'loss_af', 'loss_pt'}
    assert parts['bench_bf16_deploy_cl']['metrics']['model'] > 0
    assert parts['torchrun']['metrics']['backend'] == 'gloo'
    assert parts['full_train']['metrics']['iterations'] == 7  # 28 / 4
    assert 0 <= parts['full_test']['metrics']['top1'] <= 100
    assert results['environment']['packages']['dan_mm']['file'].startswith(
        REPO)
    # the benchmarks' record, plus CUDA's
    assert set(environment_record()) <= set(results['environment'])
    assert results['environment']['cuda_device'] is None
    assert all(t['applies'] is False for t in results['targets'])
    md = open(out / 'results.md').read()
    for name in parts:
        assert f'| {name} | {parts[name]["status"]} |' in md
    assert '--precision bf16 --deploy --channels-last' in md
    assert 'model.channels_last=True' in md
