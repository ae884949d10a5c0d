"""Parity with the reference: convert a reference-layout checkpoint, load it,
compare logits and losses."""
import subprocess
import sys

import pytest
import torch
import torchvision
from conftest import REPO
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from reference_dan import (reference_affinity_loss, reference_partition_loss,
                           save_reference_checkpoint)

CONVERTER = f'{REPO}/tools/model_converters/dan_to_mmpretrain.py'


def convert(src, dst, *extra):
    return subprocess.run(
        [sys.executable, CONVERTER,
         str(src), str(dst), *extra],
        capture_output=True,
        text=True)


def build(num_classes, num_heads):
    cfg = Config.fromfile(f'{REPO}/configs/dan_r18_rafdb.py')
    cfg.model.head.num_classes = num_classes
    cfg.model.neck.num_heads = num_heads
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('num_classes,num_heads', [(7, 4), (8, 1), (7, 1),
                                                   (8, 4)])
def test_converted_reference_matches_logits_and_losses(tmp_path, num_classes,
                                                       num_heads):
    ref = save_reference_checkpoint(tmp_path / 'ref.pth', num_classes,
                                    num_heads)
    result = convert(tmp_path / 'ref.pth', tmp_path / 'dan.pth')
    assert result.returncode == 0, result.stderr
    assert 'centres' in result.stdout  # the printed note

    model = build(num_classes, num_heads)
    ckpt = torch.load(tmp_path / 'dan.pth', weights_only=False)
    missing, unexpected = model.load_state_dict(
        ckpt['state_dict'], strict=False)
    assert missing == ['head.affinity_loss.centers'] and unexpected == []

    torch.manual_seed(1)
    x = torch.randn(4, 3, 224, 224)
    ref.eval()
    model.eval()
    with torch.no_grad():
        ref_logits, _, _ = ref(x)
        logits = model(x, mode='tensor')
    assert (logits - ref_logits).abs().max().item() <= 1e-4

    # Train mode (batch statistics): the three losses.
    ref.train()
    model.train()
    labels = torch.tensor([0, 1, num_classes - 1, 2])
    centers = model.head.affinity_loss.centers.detach()
    with torch.no_grad():
        out, feat, heads = ref(x)
        expected = {
            'loss_cls': torch.nn.functional.cross_entropy(out, labels),
            'loss_af': reference_affinity_loss(feat, labels, centers),
            'loss_pt': reference_partition_loss(heads),
        }
        losses = model(
            x, [DataSample().set_gt_label(int(i)) for i in labels],
            mode='loss')
    for key, value in expected.items():
        assert losses[key].item() == pytest.approx(
            value.item(), rel=1e-5, abs=1e-7), key


def test_converter_refuses_config_mismatch(tmp_path):
    save_reference_checkpoint(tmp_path / 'ref.pth', num_classes=8, num_heads=4)
    result = convert(tmp_path / 'ref.pth', tmp_path / 'dan.pth', '--config',
                     f'{REPO}/configs/dan_r18_rafdb.py')
    assert result.returncode != 0
    assert 'num_classes=8' in result.stderr and 'num_classes=7' in \
        result.stderr
    assert not (tmp_path / 'dan.pth').exists()


def test_converter_clear_errors(tmp_path):
    result = convert(tmp_path / 'missing.pth', tmp_path / 'dan.pth')
    assert result.returncode != 0 and 'not found' in result.stderr
    torch.save({'model_state_dict': {
        'classifier.weight': torch.zeros(1)
    }}, tmp_path / 'other.pth')
    result = convert(tmp_path / 'other.pth', tmp_path / 'dan.pth')
    assert result.returncode != 0
    assert 'classifier.weight' in result.stderr
    assert 'Traceback' not in result.stderr


def test_loading_a_mismatched_checkpoint_names_the_fix(tmp_path):
    save_reference_checkpoint(tmp_path / 'ref.pth', num_classes=7, num_heads=2)
    assert convert(tmp_path / 'ref.pth', tmp_path / 'dan.pth').returncode == 0
    model = build(7, 4)
    with pytest.raises(ValueError, match='model.neck.num_heads=2'):
        load_checkpoint(model, str(tmp_path / 'dan.pth'))


def test_msceleb_backbone_init_through_init_cfg(tmp_path):
    """The reference's resnet18_msceleb.pth: torchvision keys under
    'state_dict'; loaded by the backbone's Pretrained init_cfg."""
    torch.manual_seed(3)
    resnet = torchvision.models.resnet18(num_classes=12)
    torch.save({'state_dict': resnet.state_dict()},
               tmp_path / 'resnet18_msceleb.pth')
    cfg = Config.fromfile(f'{REPO}/configs/dan_r18_rafdb.py')
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=str(tmp_path / 'resnet18_msceleb.pth'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    backbone = model.backbone.state_dict()
    for key, value in resnet.state_dict().items():
        if key.startswith('fc.'):
            continue
        assert torch.equal(backbone[key], value), key
