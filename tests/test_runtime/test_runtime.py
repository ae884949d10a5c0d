"""The model runtime: one load, one backbone pass with attention maps, one
agreement record, and a model name's way in."""
import numpy as np
import pytest
import torch
from fer_test_utils import CONFIG, build_model, face_photo, save_checkpoint
from mmengine.config import Config
from onnx_test_utils import tiny_onnx

from dan_mm.inference import FERInferencer
from dan_mm.runtime import (OnnxRuntimeBackend, agreement_record, load_model,
                            prepare_for_inference)
from dan_mm.utils.errors import CheckpointNotFoundError, ConfigError


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('runtime') / 'dan.pth'
    return save_checkpoint(build_model(), path)


def count_backbone_passes(model):
    calls = []
    handle = model.backbone.register_forward_hook(
        lambda *args: calls.append(1))
    return calls, handle


@pytest.mark.parametrize('onnx', [False, True])
def test_maps_cost_one_backbone_pass(checkpoint, tmp_path, onnx):
    """With maps asked for, the backbone runs once per batch, whatever
    backend classifies without them."""
    kwargs = dict(onnx_file=tiny_onnx(tmp_path / 'm.onnx')) if onnx else {}
    inferencer = FERInferencer(CONFIG, checkpoint, no_detect=True, **kwargs)
    calls, handle = count_backbone_passes(inferencer.model)
    try:
        (result, ) = inferencer(face_photo(96), return_maps=True)
        assert len(calls) == 1
        (face, ) = result['faces']
        assert face['attention_maps'].shape[0] == \
            inferencer.config.model.neck.num_heads
        # the scores are the same pass's: PyTorch's
        expected = FERInferencer(
            CONFIG, checkpoint,
            no_detect=True)(face_photo(96))[0]['faces'][0]['pred_scores']
        np.testing.assert_allclose(face['pred_scores'], expected, atol=1e-6)
        calls.clear()
        inferencer(face_photo(96))
        assert len(calls) == (0 if onnx else 1)
    finally:
        handle.remove()


def test_load_model_builds_loads_and_names_what_is_wrong(checkpoint):
    model = load_model(CONFIG, checkpoint)
    assert not model.training and hasattr(model, '_config')
    saved = torch.load(checkpoint, weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        if key in saved:
            assert torch.equal(value, saved[key]), key
    with pytest.raises(ConfigError, match='config file not found: nope.py'):
        load_model('nope.py')
    with pytest.raises(CheckpointNotFoundError, match='gone.pth'):
        load_model(Config.fromfile(CONFIG), 'gone.pth')


def test_prepare_names_the_api_parameter():
    cfg = Config.fromfile(CONFIG)
    model = load_model(cfg)
    with pytest.raises(ConfigError, match='unknown precision|precision'):
        prepare_for_inference(model, precision='int4')
    assert prepare_for_inference(model, deploy=True) is model
    assert model.deploy


def test_the_onnx_session_is_the_one_inference_runs(tmp_path):
    backend = OnnxRuntimeBackend(tiny_onnx(tmp_path / 'm.onnx'), 80, 7, 1)
    options = backend.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.inter_op_num_threads == 1
    assert options.get_session_config_entry(
        'session.intra_op.allow_spinning') == '0'


def test_agreement_is_one_record_in_fractions():
    record = agreement_record([0, 1, 2, 3], [0, 1, 2, 0], [0, 1, 1, 0])
    assert record == dict(
        images=4, agreement=0.75, top1_fp32=0.75, top1_low=0.5)
