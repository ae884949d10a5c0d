"""Resume after a SIGKILL mid-epoch, and same seed -> same metrics."""
import json

import pytest
import torch
from config_utils import write_config
from tool_runner import run_tool

MAX_ITERS = 6  # 28 train images / batch 4 = 7 iterations per epoch

# Every test here trains through tools/train.py in a subprocess.
pytestmark = pytest.mark.slow


def train(root, tmp_path, name, kill_after_iter=None, resume=False):
    """Tiny iteration-based run: checkpoints at 2, 4, 6; val at the end."""
    out = tmp_path / name / 'probe'
    out.mkdir(parents=True, exist_ok=True)
    cfg = write_config(
        tmp_path / f'{name}.py',
        root,
        max_iters=MAX_ITERS,
        ckpt_interval=2,
        seed=3,
        val_interval=MAX_ITERS,
        probe_dir=out,
        kill_after_iter=kill_after_iter)
    work = tmp_path / name / 'work'
    proc = run_tool(
        'tools/train.py',
        cfg,
        '--work-dir',
        work,
        *(['--resume'] if resume else []),
        in_process=False)
    return proc, cfg, work, out


def metrics_of(cfg, ckpt, out_file):
    """tools/test.py's metrics of ``ckpt``."""
    proc = run_tool(
        'tools/test.py',
        cfg,
        ckpt,
        '--out',
        out_file,
        '--out-item',
        'metrics',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.load(open(out_file))


@pytest.fixture(scope='module')
def reference(synthfer_root, tmp_path_factory):
    """An uninterrupted run and the test metrics of its final checkpoint."""
    tmp_path = tmp_path_factory.mktemp('reference')
    proc, cfg, work, out = train(synthfer_root, tmp_path, 'ref')
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = metrics_of(cfg, work / f'iter_{MAX_ITERS}.pth',
                         tmp_path / 'metrics.json')
    return dict(
        work=work, metrics=metrics, probe=json.load(open(out / 'rank0.json')))


def final_state(work):
    return torch.load(work / f'iter_{MAX_ITERS}.pth', weights_only=False)


def assert_same_checkpoint(a, b):
    for part in ('state_dict', ):
        assert a[part].keys() == b[part].keys()
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), key
    # the optimiser's state (momentum, Adam moments, step counts) too
    states = a['optimizer']['state'], b['optimizer']['state']
    assert states[0].keys() == states[1].keys() and states[0]
    for key in states[0]:
        for name, value in states[0][key].items():
            assert torch.equal(
                torch.as_tensor(value),
                torch.as_tensor(states[1][key][name])), name
    assert a['meta']['iter'] == b['meta']['iter'] == MAX_ITERS


def test_killed_run_resumes_to_the_same_weights(synthfer_root, tmp_path,
                                                reference):
    proc, _, work, _ = train(
        synthfer_root, tmp_path, 'killed', kill_after_iter=5)
    assert proc.returncode == -9  # SIGKILL after iteration 5, mid-epoch
    assert (work / 'iter_4.pth').is_file()
    assert not (work / 'iter_6.pth').exists()
    proc, cfg, work, out = train(
        synthfer_root, tmp_path, 'killed', resume=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'Advance dataloader 4 steps' in log
    probe = json.load(open(out / 'rank0.json'))
    # the resumed run trains on exactly the batches the reference saw
    assert probe['batches'] == reference['probe']['batches'][4:]
    assert probe['losses'] == reference['probe']['losses'][4:]
    assert_same_checkpoint(final_state(work), final_state(reference['work']))


def test_same_seed_gives_same_metrics(synthfer_root, tmp_path, reference):
    proc, cfg, work, _ = train(synthfer_root, tmp_path, 'again')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_same_checkpoint(final_state(work), final_state(reference['work']))
    metrics = metrics_of(cfg, work / f'iter_{MAX_ITERS}.pth',
                         tmp_path / 'metrics.json')
    assert metrics == reference['metrics']
    assert any(key.startswith('fer/') for key in metrics), metrics
