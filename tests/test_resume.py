"""Resume after a SIGKILL mid-epoch, and same seed -> same metrics."""
import json

import pytest
import torch
from tiny_runs import run_tool, write_config

MAX_ITERS = 6  # 28 train images / batch 4 = 7 iterations per epoch


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
        extra=f'''
custom_imports = dict(imports=['dan_mm', 'probe_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='ProbeHook', out_dir={str(out)!r},
                     kill_after_iter={kill_after_iter})]
''')
    work = tmp_path / name / 'work'
    proc = run_tool(['tools/train.py', cfg, '--work-dir',
                     str(work)] + (['--resume'] if resume else []))
    return proc, cfg, work, out


def test_metrics(cfg, ckpt, out_file):
    proc = run_tool([
        'tools/test.py', cfg,
        str(ckpt), '--out',
        str(out_file), '--out-item', 'metrics'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.load(open(out_file))


test_metrics.__test__ = False  # a helper, not a test


@pytest.fixture(scope='module')
def reference(synthfer_root, tmp_path_factory):
    """An uninterrupted run and the test metrics of its final checkpoint."""
    tmp_path = tmp_path_factory.mktemp('reference')
    proc, cfg, work, out = train(synthfer_root, tmp_path, 'ref')
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = test_metrics(cfg, work / f'iter_{MAX_ITERS}.pth',
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
    metrics = test_metrics(cfg, work / f'iter_{MAX_ITERS}.pth',
                           tmp_path / 'metrics.json')
    assert metrics == reference['metrics']
    assert any(key.startswith('fer/') for key in metrics), metrics
