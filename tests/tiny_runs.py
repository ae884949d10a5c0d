"""Tiny, fast DAN runs through tools/train.py and tools/test.py for tests.

A config that inherits ``configs/dan_r18_synthfer.py`` and shrinks it to
64x64 images, batch 4, no workers and a handful of iterations.
"""
import json
import os
import os.path as osp
import subprocess
import sys

from conftest import REPO

TINY_CONFIG = '''
_base_ = {base!r}
data_root = {data_root!r}
image_size = {image_size}
train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='Resize', scale=(image_size, image_size), backend='pillow',
         interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomErasing', erase_prob=0.5, min_area_ratio=0.02,
         max_area_ratio=0.25, mode='const', fill_color=(104, 116, 124)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='Resize', scale=(image_size, image_size), backend='pillow',
         interpolation='bilinear'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size={batch_size}, num_workers=0, persistent_workers=False,
    sampler=dict({sampler}, _delete_=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                 max_iters={max_iters}, val_interval={val_interval})
param_scheduler = dict(_delete_=True, type='MultiStepLR', by_epoch=False,
                       milestones=[{milestone}], gamma=0.1)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval={ckpt_interval}, max_keep_ckpts=10,
                    save_best=None, _delete_=True))
log_processor = dict(by_epoch=False)
randomness = dict(seed={seed}, deterministic=True)
'''


def write_config(path,
                 data_root,
                 extra='',
                 batch_size=4,
                 max_iters=4,
                 ckpt_interval=2,
                 seed=0,
                 image_size=64,
                 sampler="type='InfiniteSampler', shuffle=True",
                 val_interval=100000):
    """Write a tiny training config to ``path`` and return the path.

    ``extra`` is appended: it may add keys, not redefine the tiny ones.
    """
    text = TINY_CONFIG.format(
        base=osp.join(REPO, 'configs', 'dan_r18_synthfer.py'),
        data_root=str(data_root),
        batch_size=batch_size,
        max_iters=max_iters,
        milestone=max(1, max_iters // 2),
        ckpt_interval=ckpt_interval,
        seed=seed,
        image_size=image_size,
        sampler=sampler,
        val_interval=val_interval)
    with open(path, 'w') as f:
        f.write(text + extra)
    return str(path)


def run_tool(args, env=None, timeout=600, cwd=REPO):
    """Run ``python <args>`` in the repo; return the CompletedProcess."""
    full_env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [REPO,
             osp.join(REPO, 'tests'),
             os.environ.get('PYTHONPATH', '')]),
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1')
    full_env.update(env or {})
    return subprocess.run([sys.executable, *args],
                          cwd=cwd,
                          env=full_env,
                          capture_output=True,
                          text=True,
                          timeout=timeout)


def run_tool_cases(tool, cases, tmp_path, env=None, timeout=900):
    """Run ``tools/<tool>`` once per case, cheaply (``tests/fork_tool.py``:
    one start-up, then a forked child per case).

    Args:
        tool (str): e.g. ``'tools/train.py'``.
        cases (list[list[str] | dict]): Argument lists, or dicts with
            ``argv`` and ``env``.
        tmp_path: A folder for the case and result files.

    Returns:
        list[subprocess.CompletedProcess]: One per case, in order.
    """
    cases = [c if isinstance(c, dict) else dict(argv=c) for c in cases]
    cases_file, results_file = tmp_path / 'cases.json', tmp_path / 'res.json'
    cases_file.write_text(json.dumps(cases))
    proc = run_tool([
        osp.join(REPO, 'tests', 'fork_tool.py'), tool,
        str(cases_file),
        str(results_file)
    ],
                    env=env,
                    timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [
        subprocess.CompletedProcess(c['argv'], r['returncode'], r['stdout'],
                                    r['stderr'])
        for c, r in zip(cases, json.loads(results_file.read_text()))
    ]
