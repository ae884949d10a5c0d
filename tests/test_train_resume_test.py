"""The user's path end to end: tools/train.py, --resume, tools/test.py."""
import glob
import os.path as osp
import subprocess
import sys

import torch
from conftest import REPO

TINY = '''
_base_ = ['{repo}/configs/dan_r18_synthfer.py']
data_root = '{root}'
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), backend='pillow'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=4, num_workers=0, dataset=dict(
    data_root=data_root, pipeline=pipeline, indices=8))
val_dataloader = dict(batch_size=4, num_workers=0, dataset=dict(
    data_root=data_root, pipeline=pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={epochs}, val_interval=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
'''


def write_config(tmp_path, root, epochs):
    path = tmp_path / f'tiny_{epochs}.py'
    path.write_text(TINY.format(repo=REPO, root=root, epochs=epochs))
    return str(path)


def run(*args):
    result = subprocess.run([sys.executable, *args],
                            cwd=REPO,
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout + result.stderr


def test_train_resume_and_test(tmp_path, synthfer_root):
    work_dir = str(tmp_path / 'work')
    # 1 epoch of 2 iterations, with validation: num_workers=0 must work.
    log = run('tools/train.py', write_config(tmp_path, synthfer_root, 1),
              '--work-dir', work_dir)
    assert 'fer/top1' in log and 'fer/balanced_accuracy' in log
    first = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=False)
    assert first['meta']['epoch'] == 1 and first['meta']['iter'] == 2

    # Resume to 2 epochs: loads optimizer, message hub and scheduler state.
    log = run('tools/train.py', write_config(tmp_path, synthfer_root, 2),
              '--work-dir', work_dir, '--resume')
    assert 'resumed epoch: 1, iter: 2' in log
    second = torch.load(osp.join(work_dir, 'epoch_2.pth'), weights_only=False)
    assert second['meta']['epoch'] == 2 and second['meta']['iter'] == 4
    assert 'head.affinity_loss.centers' in second['state_dict']
    assert not torch.equal(first['state_dict']['head.fc.weight'],
                           second['state_dict']['head.fc.weight'])

    # Test the checkpoint: metrics printed, confusion matrix plotted.
    test_dir = str(tmp_path / 'test')
    log = run('tools/test.py', write_config(tmp_path, synthfer_root, 2),
              osp.join(work_dir, 'epoch_2.pth'), '--work-dir', test_dir)
    assert 'fer/top1' in log and 'fer/balanced_accuracy' in log
    assert 'confusion matrix' in log
    assert glob.glob(osp.join(test_dir, '*', 'confusion_matrix.png'))


def test_missing_config_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, 'tools/train.py',
         str(tmp_path / 'nope.py')],
        cwd=REPO,
        capture_output=True,
        text=True)
    assert result.returncode != 0
    assert 'config file not found' in result.stderr
    assert 'Traceback' not in result.stderr
