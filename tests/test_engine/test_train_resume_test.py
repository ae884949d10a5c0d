"""The user's path end to end: tools/train.py, --resume, tools/test.py."""
import glob
import os.path as osp

import pytest
import torch
from api_utils import cli_test_args, cli_train_args
from config_utils import write_config
from tool_runner import run_tool

from dan_mm.engine.runner import run_test, run_train


def tiny_epochs(tmp_path, root, epochs):
    """2 iterations (8 images, batch 4) per epoch, validation each epoch."""
    return write_config(
        tmp_path / f'tiny_{epochs}.py',
        root,
        max_epochs=epochs,
        ckpt_interval=1,
        val_interval=1,
        num_samples=8)


def run(*args):
    result = run_tool(*args, in_process=False)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout + result.stderr


@pytest.mark.slow
def test_train_resume_and_test(tmp_path, synthfer_root):
    work_dir = str(tmp_path / 'work')
    # 1 epoch of 2 iterations, with validation: num_workers=0 must work.
    log = run('tools/train.py', tiny_epochs(tmp_path, synthfer_root, 1),
              '--work-dir', work_dir)
    assert 'fer/top1' in log and 'fer/balanced_accuracy' in log
    first = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=False)
    assert first['meta']['epoch'] == 1 and first['meta']['iter'] == 2

    # Resume to 2 epochs: loads optimizer, message hub and scheduler state.
    log = run('tools/train.py', tiny_epochs(tmp_path, synthfer_root, 2),
              '--work-dir', work_dir, '--resume')
    assert 'resumed epoch: 1, iter: 2' in log
    second = torch.load(osp.join(work_dir, 'epoch_2.pth'), weights_only=False)
    assert second['meta']['epoch'] == 2 and second['meta']['iter'] == 4
    assert 'head.affinity_loss.centers' in second['state_dict']
    assert not torch.equal(first['state_dict']['head.fc.weight'],
                           second['state_dict']['head.fc.weight'])

    # Test the checkpoint: metrics printed, confusion matrix plotted.
    test_dir = str(tmp_path / 'test')
    log = run('tools/test.py', tiny_epochs(tmp_path, synthfer_root, 2),
              osp.join(work_dir, 'epoch_2.pth'), '--work-dir', test_dir)
    assert 'fer/top1' in log and 'fer/balanced_accuracy' in log
    assert 'confusion matrix' in log
    assert glob.glob(osp.join(test_dir, '*', 'confusion_matrix.png'))


@pytest.mark.parametrize('mode', ['train', 'test'])
def test_missing_config_is_one_clear_line(tmp_path, mode):
    config = str(tmp_path / 'nope.py')
    if mode == 'test':
        ckpt = tmp_path / 'model.pth'
        ckpt.write_bytes(b'')
        run, args = run_test, cli_test_args(
            config=config, checkpoint=str(ckpt))
    else:
        run, args = run_train, cli_train_args(config=config)
    code, _, stderr = run_tool(run, args)
    assert code == 1
    assert stderr.strip().splitlines() == [
        f'error: config file not found: {tmp_path / "nope.py"}'
    ]


def test_missing_checkpoint_is_one_clear_line(tmp_path):
    code, _, stderr = run_tool(
        run_test, cli_test_args(checkpoint=str(tmp_path / 'nope.pth')))
    assert code == 1
    assert stderr.strip().splitlines() == [
        f'error: checkpoint not found: {tmp_path / "nope.pth"} '
        '(the CHECKPOINT argument)'
    ]
