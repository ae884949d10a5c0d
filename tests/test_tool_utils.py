"""The pieces that turn user errors into one line, tested without tools."""
import json

import pytest
from mmengine.config import Config

from dan_mm.utils import torchrun
from dan_mm.utils.errors import (CheckpointMismatchError, ConfigError,
                                 DataNotFoundError, UnreadableImageError,
                                 UserError, one_line)
from dan_mm.utils.tool_utils import (check_data_roots, exit_on_user_error,
                                     load_config, naming_checkpoint,
                                     naming_config_keys)

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


def test_naming_checkpoint():
    # (a damaged file is named by the loader: test_safe_checkpoint.py)
    with pytest.raises(
            CheckpointMismatchError,
            match='^cannot load checkpoint c.pth: shape'):
        with naming_checkpoint('c.pth'):
            raise CheckpointMismatchError('shape')
    with pytest.raises(RuntimeError, match='^CUDA out of memory$'):
        with naming_checkpoint('c.pth'):  # not about the file: unchanged
            raise RuntimeError('CUDA out of memory')


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


def test_worker_error_is_unwrapped():
    """PyTorch re-creates a worker's error from its message alone."""
    wrapped = UnreadableImageError(
        'Caught UnreadableImageError in DataLoader worker process 1.\n'
        'Original Traceback (most recent call last):\n  File "x", line 1\n'
        'dan_mm.utils.errors.UnreadableImageError: cannot read image a.jpg: '
        'zero-byte file\n')
    assert one_line(wrapped) == 'cannot read image a.jpg: zero-byte file'


@pytest.fixture
def elastic_files(tmp_path, monkeypatch):
    """torchelastic's per-worker error files of a 2-worker attempt."""
    for rank in (0, 1):
        (tmp_path / str(rank)).mkdir()
    monkeypatch.setenv(torchrun.ERROR_FILE_ENV,
                       str(tmp_path / '1' / 'error.json'))
    monkeypatch.delenv(torchrun.LAUNCHER_ENV, raising=False)
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
    assert data['message']['extraInfo'][torchrun.USER_ERROR_KEY] is True
    int(data['message']['extraInfo']['timestamp'])  # torchelastic reads it
    # under dan_mm.utils.torchrun: the launcher prints it, once
    monkeypatch.setenv(torchrun.LAUNCHER_ENV, '1')
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
                    torchrun.USER_ERROR_KEY: True
                }
            }
        }))
    assert torchrun.peer_user_error() == 'rank 0 data root'
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
                        torchrun.USER_ERROR_KEY: marked
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
