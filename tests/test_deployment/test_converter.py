"""Parity with the reference: convert a reference-layout checkpoint, load it,
compare logits and losses."""
import pytest
import torch
import torchvision
from fer_test_utils import REPO, build_model
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from reference_dan import (reference_affinity_loss, reference_partition_loss,
                           save_reference_checkpoint)
from tool_runner import run_tool

from dan_mm.deployment.reference_checkpoint import convert_reference_checkpoint

CONVERTER = 'tools/model_converters/dan_to_mmpretrain.py'


def convert(src, dst, config=None):
    """The converter, in this process: (exit status, stdout, stderr)."""
    return run_tool(convert_reference_checkpoint, str(src), str(dst), config)


def build(num_classes, num_heads):
    return build_model(
        f'{REPO}/configs/dan_r18_rafdb.py',
        num_classes=num_classes,
        init=False,
        random_bn=False,
        num_heads=num_heads)


# Both class counts and both head counts (K=1 has no log-softmax across
# heads and no partition loss), each once.
@pytest.mark.parametrize('num_classes,num_heads', [(7, 4), (8, 1)])
def test_converted_reference_matches_logits_and_losses(tmp_path, num_classes,
                                                       num_heads):
    ref = save_reference_checkpoint(tmp_path / 'ref.pth', num_classes,
                                    num_heads)
    code, stdout, stderr = convert(tmp_path / 'ref.pth', tmp_path / 'dan.pth')
    assert code == 0, stderr
    assert 'centres' in stdout  # the printed note

    model = build(num_classes, num_heads)
    ckpt = torch.load(tmp_path / 'dan.pth', weights_only=False)
    missing, unexpected = model.load_state_dict(
        ckpt['state_dict'], strict=False)
    assert missing == ['head.affinity_loss.centers'] and unexpected == []

    torch.manual_seed(1)
    x = torch.randn(4, 3, 112, 112)  # 4x4 features: every path, 4x cheaper
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
    code, _, stderr = convert(tmp_path / 'ref.pth', tmp_path / 'dan.pth',
                              f'{REPO}/configs/dan_r18_rafdb.py')
    assert code != 0
    assert 'num_classes=8' in stderr and 'num_classes=7' in stderr
    assert not (tmp_path / 'dan.pth').exists()


@pytest.mark.slow
def test_converter_clear_errors(tmp_path):
    """Through the command line: one line, no traceback."""
    result = run_tool(
        CONVERTER,
        tmp_path / 'missing.pth',
        tmp_path / 'dan.pth',
        in_process=False)
    assert result.returncode != 0 and 'not found' in result.stderr
    torch.save({'model_state_dict': {
        'classifier.weight': torch.zeros(1)
    }}, tmp_path / 'other.pth')
    result = run_tool(
        CONVERTER,
        tmp_path / 'other.pth',
        tmp_path / 'dan.pth',
        in_process=False)
    assert result.returncode != 0
    assert 'classifier.weight' in result.stderr
    assert 'Traceback' not in result.stderr


def test_converter_says_a_dan_mm_checkpoint_needs_no_conversion(tmp_path):
    save_reference_checkpoint(tmp_path / 'ref.pth', num_classes=7, num_heads=4)
    assert convert(tmp_path / 'ref.pth', tmp_path / 'dan.pth')[0] == 0
    # the converter's own output, and a runner's checkpoint (meta, and
    # state_dict next to optimizer state)
    torch.save(
        dict(
            meta=dict(epoch=1),
            state_dict=build(7, 4).state_dict(),
            optimizer=dict()), tmp_path / 'epoch_1.pth')
    for name in ('dan.pth', 'epoch_1.pth'):
        code, _, stderr = convert(tmp_path / name, tmp_path / 'again.pth')
        assert code == 1
        (line, ) = stderr.strip().splitlines()
        assert "this file is already in dan_mm's format" in line
        assert 'use it directly' in line and '"meta"' not in line
    assert not (tmp_path / 'again.pth').exists()


def test_loading_a_mismatched_checkpoint_names_the_fix(tmp_path):
    save_reference_checkpoint(tmp_path / 'ref.pth', num_classes=7, num_heads=2)
    assert convert(tmp_path / 'ref.pth', tmp_path / 'dan.pth')[0] == 0
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
