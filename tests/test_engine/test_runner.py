"""The runner builder every training and test tool goes through
(dan_mm.engine.runner), and the merges of their command lines, in process."""
import glob
import os.path as osp

import pytest
from api_utils import cli_test_args, cli_train_args
from config_utils import write_config
from fer_test_utils import CONFIG, build_model, save_checkpoint
from mmengine.config import Config

from dan_mm.engine import (build_runner, merge_test_args, merge_train_args,
                           run_test)
from dan_mm.utils.errors import (CheckpointNotFoundError, ConfigError,
                                 DataNotFoundError)


def test_show_dir_enables_the_visualization_hook(tmp_path):
    cfg = merge_test_args(Config.fromfile(CONFIG), cli_test_args())
    assert cfg.default_hooks.visualization.enable is False  # as configured
    show_dir = str(tmp_path / 'shown')
    cfg = merge_test_args(
        Config.fromfile(CONFIG),
        cli_test_args(show_dir=show_dir, interval=5, wait_time=0.5))
    hook = cfg.default_hooks.visualization
    assert hook.type == 'VisualizationHook' and hook.enable is True
    assert hook.out_dir == show_dir and hook.interval == 5
    assert hook.wait_time == 0.5 and hook.show is False
    hook = merge_test_args(
        Config.fromfile(CONFIG),
        cli_test_args(show=True)).default_hooks.visualization
    assert hook.enable is True and hook.show is True and hook.out_dir is None


def test_show_without_a_visualization_hook_names_the_key():
    cfg = Config.fromfile(CONFIG)
    del cfg.default_hooks['visualization']
    with pytest.raises(ConfigError, match='default_hooks.visualization'):
        merge_test_args(cfg, cli_test_args(show_dir='out'))


def test_train_merge_sets_resume_and_work_dir(tmp_path):
    cfg = merge_train_args(
        Config.fromfile(CONFIG),
        cli_train_args(
            resume='ckpt.pth', cfg_options={'train_cfg.max_epochs': 3}))
    assert cfg.resume is True and cfg.load_from == 'ckpt.pth'
    assert cfg.work_dir == osp.join('./work_dirs', 'dan_r18_synthfer')
    assert cfg.train_cfg.max_epochs == 3
    cfg = merge_train_args(
        Config.fromfile(CONFIG),
        cli_train_args(resume='auto', no_validate=True))
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.val_dataloader is None and cfg.val_cfg is None


def test_build_runner_checks_before_building(synthfer_root, tmp_path):
    """The data roots of the loaders the mode builds, and the checkpoint,
    stop the run before a runner (and its work dir) exists."""
    work_dir = str(tmp_path / 'work')
    cfg = merge_train_args(
        Config.fromfile(CONFIG),
        cli_train_args(
            work_dir=work_dir,
            cfg_options={
                'train_dataloader.dataset.data_root': str(synthfer_root),
                'val_dataloader.dataset.data_root': 'no/such'
            }))
    with pytest.raises(DataNotFoundError, match='val_dataloader'):
        build_runner(cfg, 'train')
    cfg = merge_test_args(
        Config.fromfile(CONFIG),
        cli_test_args(
            checkpoint=str(tmp_path / 'nope.pth'), work_dir=work_dir))
    with pytest.raises(CheckpointNotFoundError, match=r'\(resume=True\)'):
        build_runner(cfg, 'test', 'resume=True')
    with pytest.raises(ValueError, match='mode'):
        build_runner(cfg, 'val')
    assert not osp.exists(work_dir)


@pytest.mark.slow
def test_show_dir_saves_the_drawn_predictions(synthfer_root, tmp_path):
    cfg = write_config(tmp_path / 'tiny.py', synthfer_root, num_samples=4)
    ckpt = save_checkpoint(build_model(), tmp_path / 'dan.pth')
    show_dir = tmp_path / 'shown'
    metrics = run_test(
        cli_test_args(
            config=cfg,
            checkpoint=str(ckpt),
            work_dir=str(tmp_path / 'work'),
            show_dir=str(show_dir),
            interval=2))
    assert 'fer/top1' in metrics
    assert len(glob.glob(str(show_dir / '*.png'))) == 2  # 4 images, every 2nd
