"""The helpers every tool shares: config and work dir, data loader defaults,
--amp, --precision, and errors as one line (config keys, checkpoints, data
roots, data-loader workers, torchrun ranks)."""
import argparse
import json

import pytest
import torch
from mmengine.config import Config

from dan_mm.engine import torchrun
from dan_mm.utils import precision as precision_module
from dan_mm.utils import worker_errors
from dan_mm.utils.cli import (DEBUG_ENV, add_debug_argument,
                              add_precision_argument, exit_on_user_error,
                              naming_checkpoint)
from dan_mm.utils.config import (amp_optim_wrapper, check_data_roots,
                                 load_config, naming_config_keys,
                                 set_dataloader_defaults, set_work_dir)
from dan_mm.utils.errors import (CheckpointMismatchError, ConfigError,
                                 DataNotFoundError, NoFaceFoundError,
                                 UnreadableImageError, UserError, one_line)

CFG = Config(
    dict(
        model=dict(type='DAN', backbone=dict(type='ResNett', depth=18)),
        train_dataloader=dict(
            dataset=dict(
                type='RAFDB',
                data_rot='x',
                pipeline=[dict(type='LoadFaceImage'),
                          dict(type='Resise')]))))


@pytest.mark.parametrize('error,expected', [
    (KeyError('ResNett is not in the mmpretrain::model registry. Please '
              'check whether the value of `ResNett` is correct'),
     'model.backbone.type: "ResNett" is not a registered mmpretrain::model '
     'type'),
    (KeyError('Resise is not in the mmpretrain::transform registry. x'),
     'train_dataloader.dataset.pipeline[1].type: "Resise" is not a '
     'registered mmpretrain::transform type'),
    (TypeError("BaseDataset.__init__() got an unexpected keyword argument "
               "'data_rot'"),
     'train_dataloader.dataset.data_rot: RAFDB takes no argument '
     '"data_rot"'),
    (TypeError("RAFDB.__init__() missing 1 required positional argument: "
               "'data_root'"),
     "train_dataloader.dataset: RAFDB needs 'data_root'; add it"),
])
def test_config_errors_name_the_key(error, expected):
    with pytest.raises(ConfigError) as info:
        with naming_config_keys(CFG):
            raise error
    assert str(info.value).startswith(expected), str(info.value)
    assert info.value.__cause__ is error


@pytest.mark.parametrize(
    'error',
    [
        KeyError('img_path'),  # a bug, not a registry miss
        TypeError("f() got an unexpected keyword argument 'data_rot'"),
        TypeError("X.__init__() got an unexpected keyword argument 'nowhere'"),
        ValueError('other'),
    ])
def test_other_errors_pass_unchanged(error):
    with pytest.raises(type(error)) as info:
        with naming_config_keys(CFG):
            raise error
    assert info.value is error


def test_load_config_errors(tmp_path):
    (tmp_path / 'syntax.py').write_text('a = dict(b=1\n')
    (tmp_path / 'base.py').write_text("_base_ = ['gone.py']\n")
    (tmp_path / 'ref.py').write_text('a = {{_base_.nothing}}\n')
    (tmp_path / 'imp.py'
     ).write_text("custom_imports = dict(imports=['no_such_module_x'])\n")
    for name, message in [('missing.py', 'config file not found'),
                          ('syntax.py', 'cannot parse config'),
                          ('base.py', 'inherits a missing file: \\S+gone.py'),
                          ('ref.py', "refers to 'nothing'"),
                          ('imp.py', 'custom_imports names the module '
                           '"no_such_module_x"')]:
        with pytest.raises(ConfigError, match=message):
            load_config(str(tmp_path / name))


def test_check_data_roots(tmp_path):
    cfg = Config(
        dict(
            train_dataloader=dict(dataset=dict(data_root=str(tmp_path))),
            val_dataloader=None,
            test_dataloader=dict(dataset=dict(data_root='nowhere/x'))))
    check_data_roots(cfg, ('train_dataloader', 'val_dataloader'))
    with pytest.raises(
            DataNotFoundError,
            match='^test_dataloader.dataset.data_root: nowhere/x '
            'does not exist'):
        check_data_roots(cfg, ('train_dataloader', 'test_dataloader'))


@pytest.fixture
def elastic_files(tmp_path, monkeypatch):
    """torchelastic's per-worker error files of a 2-worker attempt."""
    for rank in (0, 1):
        (tmp_path / str(rank)).mkdir()
    monkeypatch.setenv(worker_errors.ERROR_FILE_ENV,
                       str(tmp_path / '1' / 'error.json'))
    monkeypatch.delenv(worker_errors.LAUNCHER_ENV, raising=False)
    monkeypatch.delenv('DAN_MM_DEBUG', raising=False)
    return tmp_path


def test_user_error_is_recorded_for_the_launcher(elastic_files, capsys,
                                                 monkeypatch):

    @exit_on_user_error
    def fails():
        raise ConfigError('bad key')

    # plain torchrun: recorded, and printed by the worker itself
    with pytest.raises(SystemExit) as info:
        fails()
    assert info.value.code == 1
    assert capsys.readouterr().err == 'error: bad key\n'
    data = json.loads((elastic_files / '1' / 'error.json').read_text())
    assert data['message']['message'] == 'bad key'
    assert data['message']['extraInfo'][worker_errors.USER_ERROR_KEY] is True
    int(data['message']['extraInfo']['timestamp'])  # torchelastic reads it
    # under dan_mm.engine.torchrun: the launcher prints it, once
    monkeypatch.setenv(worker_errors.LAUNCHER_ENV, '1')
    with pytest.raises(SystemExit):
        fails()
    assert capsys.readouterr().err == ''


def test_peer_of_a_user_error_stops_quietly(elastic_files, capsys,
                                            monkeypatch):

    @exit_on_user_error
    def loses_its_peer():
        raise RuntimeError('Connection closed by peer')

    # no peer error yet: a failure is a bug, and keeps its traceback
    with pytest.raises(RuntimeError):
        loses_its_peer()
    (elastic_files / '0' / 'error.json').write_text(
        json.dumps({
            'message': {
                'message': 'rank 0 data root',
                'extraInfo': {
                    'timestamp': '1',
                    worker_errors.USER_ERROR_KEY: True
                }
            }
        }))
    assert worker_errors.peer_user_error() == 'rank 0 data root'
    with pytest.raises(SystemExit) as info:
        loses_its_peer()
    assert info.value.code == 1 and capsys.readouterr().err == ''
    monkeypatch.setenv('DAN_MM_DEBUG', '1')  # --debug: every traceback
    with pytest.raises(RuntimeError):
        loses_its_peer()


def test_launcher_collects_distinct_messages(tmp_path):

    class Failure:

        def __init__(self, error_file):
            self.error_file = error_file

    files = {}
    for rank, (message, marked) in enumerate([('same', True), ('same', True),
                                              ('a bug', False),
                                              ('other', True)]):
        path = tmp_path / f'{rank}.json'
        path.write_text(
            json.dumps({
                'message': {
                    'message': message,
                    'extraInfo': {
                        'timestamp': '1',
                        worker_errors.USER_ERROR_KEY: marked
                    }
                }
            }))
        files[rank] = Failure(str(path))
    files[4] = Failure('<N/A>')  # a worker killed by a signal
    assert torchrun.user_error_messages(files) == ['same', 'other']
    assert torchrun.user_error_messages({0: Failure('<N/A>')}) == []


def test_user_errors_are_what_python_callers_expect():
    assert issubclass(DataNotFoundError, FileNotFoundError)
    assert issubclass(ConfigError, ValueError)
    assert issubclass(DataNotFoundError, UserError)


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
    # (a damaged file is named by the loader: test_safe_checkpoint.py)
    with pytest.raises(CheckpointMismatchError) as info:
        with naming_checkpoint('dan.pth'):
            raise CheckpointMismatchError('has 2 heads; set num_heads=2')
    assert str(info.value) == (
        'cannot load checkpoint dan.pth: has 2 heads; set num_heads=2')
    with pytest.raises(CheckpointMismatchError) as info:
        with naming_checkpoint('dan.pth'):
            raise CheckpointMismatchError('dan.pth is the wrong form')
    assert str(info.value) == 'dan.pth is the wrong form'
    with pytest.raises(RuntimeError, match='^CUDA out of memory$'):
        with naming_checkpoint('c.pth'):  # not about the file: unchanged
            raise RuntimeError('CUDA out of memory')
