"""The helpers every tool shares: config and work dir, data loader defaults,
--amp, --precision, and the one-line exit on user errors."""
import argparse

import pytest
import torch
from mmengine.config import Config

from dan_mm.utils import precision as precision_module
from dan_mm.utils.errors import (CheckpointMismatchError, ConfigError,
                                 NoFaceFoundError, UnreadableImageError,
                                 one_line)
from dan_mm.utils.tool_utils import (DEBUG_ENV, add_debug_argument,
                                     add_precision_argument, amp_optim_wrapper,
                                     exit_on_user_error, load_config,
                                     naming_checkpoint,
                                     set_dataloader_defaults, set_work_dir)


def test_load_config_and_work_dir(tmp_path):
    with pytest.raises(ConfigError, match='config file not found: '):
        load_config(str(tmp_path / 'nope.py'))
    path = tmp_path / 'my_run.py'
    path.write_text('a = dict(b=1)\n')
    cfg = load_config(str(path), {'a.b': 2})
    assert cfg.a.b == 2
    set_work_dir(cfg, None, str(path))
    assert cfg.work_dir == './work_dirs/my_run'
    set_work_dir(cfg, 'elsewhere', str(path))  # --work-dir wins
    assert cfg.work_dir == 'elsewhere'


def test_dataloader_defaults_never_persist_without_workers():
    cfg = Config(
        dict(
            train_dataloader=dict(num_workers=0, batch_size=2),
            val_dataloader=dict(num_workers=2)))
    set_dataloader_defaults(cfg, 'train_dataloader')
    set_dataloader_defaults(cfg, 'val_dataloader')
    set_dataloader_defaults(cfg, 'test_dataloader')  # absent: no-op
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.val_dataloader.persistent_workers is True
    assert cfg.val_dataloader.pin_memory is torch.cuda.is_available()
    assert 'test_dataloader' not in cfg


def test_amp_is_bf16_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    wrapper = amp_optim_wrapper(dict(optimizer=dict(type='SGD', lr=0.1)))
    assert wrapper.type == 'BF16AmpOptimWrapper'
    assert wrapper.dtype == 'bfloat16'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    wrapper = amp_optim_wrapper(dict(optimizer=dict(type='SGD', lr=0.1)))
    assert (wrapper.type, wrapper.loss_scale) == ('AmpOptimWrapper', 'dynamic')


def test_precision_flag_and_autocast():
    parser = argparse.ArgumentParser()
    add_precision_argument(parser)
    assert parser.parse_args([]).precision == 'fp32'
    assert parser.parse_args(['--precision', 'bf16']).precision == 'bf16'
    with pytest.raises(SystemExit):
        parser.parse_args(['--precision', 'int8'])
    linear = torch.nn.Linear(4, 2)
    with precision_module.autocast('cpu', 'bf16'):
        assert linear(torch.randn(1, 4)).dtype == torch.bfloat16
    with precision_module.autocast(torch.device('cpu'), 'fp32'):
        assert linear(torch.randn(1, 4)).dtype == torch.float32
    with pytest.raises(ConfigError, match='precision must be one of'):
        precision_module.autocast('cpu', 'fp8')


def test_user_error_exits_with_one_line(capsys, monkeypatch):
    # recorded, so that what --debug sets below is undone after the test
    monkeypatch.setenv(DEBUG_ENV, '')

    @exit_on_user_error
    def main(error):
        raise error

    with pytest.raises(SystemExit) as info:
        main(ConfigError('bad key x; set y'))
    assert info.value.code == 1
    assert capsys.readouterr().err == 'error: bad key x; set y\n'
    with pytest.raises(SystemExit) as info:
        main(NoFaceFoundError('no face found in a.jpg'))
    assert info.value.code == 2  # the class's exit_code
    # a bug keeps its traceback
    with pytest.raises(KeyError):
        main(KeyError('bug'))
    # --debug: the user error's traceback too, for the whole process
    parser = argparse.ArgumentParser()
    add_debug_argument(parser)
    assert parser.parse_args(['--debug']).debug is True
    with pytest.raises(ConfigError):
        main(ConfigError('shown with its traceback'))
    monkeypatch.setenv(DEBUG_ENV, '0')
    with pytest.raises(SystemExit):
        main(ConfigError('0 means off'))


def test_one_line_unwraps_a_data_loader_worker_error():
    wrapped = UnreadableImageError(
        'Caught UnreadableImageError in DataLoader worker process 0.\n'
        'Original Traceback (most recent call last):\n'
        '  File "x.py", line 1, in f\n'
        'dan_mm.utils.errors.UnreadableImageError: cannot read image a.jpg:'
        ' zero-byte file')
    assert one_line(wrapped) == 'cannot read image a.jpg: zero-byte file'
    assert one_line(ValueError('two\nlines')) == 'two lines'


def test_naming_checkpoint_adds_the_file_once():
    with pytest.raises(CheckpointMismatchError) as info:
        with naming_checkpoint('dan.pth'):
            raise CheckpointMismatchError('has 2 heads; set num_heads=2')
    assert str(info.value) == (
        'cannot load checkpoint dan.pth: has 2 heads; set num_heads=2')
    with pytest.raises(CheckpointMismatchError) as info:
        with naming_checkpoint('dan.pth'):
            raise CheckpointMismatchError('dan.pth is the wrong form')
    assert str(info.value) == 'dan.pth is the wrong form'
