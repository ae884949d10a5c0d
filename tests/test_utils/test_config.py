"""Configs as the tools load them: one line naming the key or file for a
config error, data roots that exist, the work dir, data loader defaults,
and --amp's wrapper."""
import pytest
import torch
from mmengine.config import Config

from dan_mm.engine.run_config import amp_optim_wrapper
from dan_mm.utils.config import (check_data_roots, load_config,
                                 naming_config_keys, set_dataloader_defaults,
                                 set_work_dir)
from dan_mm.utils.errors import ConfigError, DataNotFoundError

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
