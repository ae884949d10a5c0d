"""A checkpoint run with a config other than its training config: refused
in one line where results would be wrong, a warning where only worse; the
model's notice follows the checkpoint; the saved config text never runs."""
import logging

import pytest
import torch
from fer_test_utils import CLASSES, REPO, build_model
from mmengine.config import Config

from dan_mm.inference import FERInferencer
from dan_mm.inference.model_notice import model_notice
from dan_mm.utils.checkpoint_config import (check_checkpoint_config,
                                            training_config)
from dan_mm.utils.cli import in_flags, report_logger
from dan_mm.utils.errors import CheckpointMismatchError

SYNTHFER = f'{REPO}/configs/dan_r18_synthfer.py'
RAFDB = f'{REPO}/configs/dan_r18_rafdb.py'


class _Lines(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def warnings_shown():
    """The warning lines the package gives the tools to show (its report
    logger), whether or not a tool has switched that logger's output on."""
    handler = _Lines()
    report_logger().addHandler(handler)
    yield handler.lines
    report_logger().removeHandler(handler)


def save_trained(path, config=SYNTHFER, classes=CLASSES, **cfg_changes):
    """A checkpoint as mmengine's runner saves it: meta['cfg'] is the
    training config's text."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_changes)
    model = build_model(init=False, random_bn=False)
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {
                'cfg': cfg.pretty_text,
                'dataset_meta': {
                    'classes': list(classes)
                }
            }
        }, path)
    return str(path)


def test_the_same_config_passes_quietly(tmp_path, warnings_shown):
    ckpt = save_trained(tmp_path / 'synthfer.pth')
    trained = check_checkpoint_config(Config.fromfile(SYNTHFER), ckpt)
    assert trained.training_data['name'] == 'SynthFER'
    assert warnings_shown == []


def test_another_input_size_is_refused_in_one_line(tmp_path):
    ckpt = save_trained(tmp_path / 'synthfer.pth')
    with pytest.raises(CheckpointMismatchError) as err:
        check_checkpoint_config(
            Config.fromfile(RAFDB), ckpt, config_name='dan_r18_rafdb.py')
    message = str(err.value)
    assert '\n' not in message
    assert 'input size: 224x224 in dan_r18_rafdb.py but 80x80 in training' \
        in message
    assert 'pass allow_config_mismatch=True' in message
    # the tools say it as their flag
    assert 'pass --allow-config-mismatch to run it anyway' in in_flags(message)


def test_another_class_order_is_refused(tmp_path):
    ckpt = save_trained(
        tmp_path / 'order.pth', classes=CLASSES[1:] + CLASSES[:1])
    with pytest.raises(CheckpointMismatchError, match='classes: Surprise'):
        check_checkpoint_config(Config.fromfile(SYNTHFER), ckpt)


def test_another_mean_std_is_refused(tmp_path):
    ckpt = save_trained(
        tmp_path / 'norm.pth', data_preprocessor=dict(mean=[0, 0, 0]))
    with pytest.raises(CheckpointMismatchError, match='mean/std'):
        check_checkpoint_config(Config.fromfile(SYNTHFER), ckpt)


def test_another_crop_only_warns(tmp_path, warnings_shown):
    ckpt = save_trained(
        tmp_path / 'crop.pth', face_crop=dict(mode='box', margin=0.3))
    check_checkpoint_config(Config.fromfile(SYNTHFER), ckpt)
    warnings = warnings_shown
    assert len(warnings) == 1 and 'face crop' in warnings[0]
    assert 'box margin 0.1' in warnings[0] and 'box margin 0.3' in warnings[0]


def test_the_override_warns_and_the_notice_follows_the_checkpoint(
        tmp_path, warnings_shown):
    ckpt = save_trained(tmp_path / 'synthfer.pth')
    trained = check_checkpoint_config(
        Config.fromfile(RAFDB), ckpt, allow_mismatch=True)
    assert len(warnings_shown) == 1 and 'input size' in warnings_shown[0]
    # the RAF-DB config knows real faces; the checkpoint drawn ones
    assert model_notice(Config.fromfile(RAFDB)) is None
    assert 'not meaningful' in model_notice(trained)


def test_checkpoints_without_a_training_config_pass(tmp_path):
    model = build_model(init=False, random_bn=False)
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'bare.pth')
    assert check_checkpoint_config(
        Config.fromfile(RAFDB), str(tmp_path / 'bare.pth')) is None


def test_the_saved_config_text_is_never_run(tmp_path):
    marker = tmp_path / 'ran'
    text = ('image_size = 80\n'
            f"x = __import__('pathlib').Path({str(marker)!r}).touch()\n"
            "face_crop = dict(mode='box', margin=0.1)\n")
    cfg = training_config({'cfg': text})
    assert not marker.exists()
    assert cfg.image_size == 80 and cfg.face_crop.margin == 0.1
    assert 'x' not in cfg


@pytest.mark.slow
def test_inferencer_refuses_then_runs_with_the_notice(tmp_path):
    ckpt = save_trained(tmp_path / 'synthfer.pth')
    with pytest.raises(CheckpointMismatchError):
        FERInferencer(RAFDB, ckpt, no_detect=True)
    inferencer = FERInferencer(
        RAFDB, ckpt, no_detect=True, allow_config_mismatch=True)
    assert 'not meaningful' in inferencer.model_notice
