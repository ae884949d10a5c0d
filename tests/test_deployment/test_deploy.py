"""switch_to_deploy(): fused MAN equals the original; deploy checkpoints."""
import pytest
import torch
from fer_test_utils import CONFIG, build_model, randomize_bn, save_checkpoint
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from tool_runner import run_tool

from dan_mm.deployment import reparameterize_checkpoint
from dan_mm.models import DAN, MultiHeadCrossAttentionNeck
from dan_mm.models.necks.fused_man import pad_to_3x3


def test_pad_to_3x3_centres_the_kernel():
    k13 = torch.arange(3.).reshape(1, 1, 1, 3)
    assert torch.equal(
        pad_to_3x3(k13)[0, 0], torch.tensor([[0, 0, 0], [0, 1, 2], [0, 0,
                                                                    0.]]))
    k31 = torch.arange(3.).reshape(1, 1, 3, 1)
    assert torch.equal(
        pad_to_3x3(k31)[0, 0], torch.tensor([[0, 0, 0.], [0, 1, 0], [0, 2,
                                                                     0]]))


@pytest.mark.parametrize('in_channels,mid_channels,num_heads,reduction',
                         [(512, 256, 4, 32), (512, 256, 1, 32), (64, 32, 4, 8),
                          (64, 16, 1, 8)])
def test_fused_neck_is_exact(in_channels, mid_channels, num_heads, reduction):
    """In float64 the fusion is exact up to rounding (1e-10): heads, pooled
    feature and attention maps."""
    torch.manual_seed(0)
    neck = MultiHeadCrossAttentionNeck(in_channels, num_heads, mid_channels,
                                       reduction).double()
    neck.init_weights()
    randomize_bn(neck)
    neck.eval()
    x = torch.randn(2, in_channels, 5, 4, dtype=torch.float64)
    with torch.no_grad():
        pooled, heads = neck(x)
        maps = neck.attention_maps(x)
        neck.switch_to_deploy()
        fused_pooled, fused_heads = neck(x)
        fused_maps = neck.attention_maps(x)
    assert neck.deploy and not hasattr(neck, 'heads')
    assert neck.fused_heads.spatial.groups == num_heads
    assert fused_heads.shape == (2, num_heads, in_channels)
    assert torch.equal(pooled, fused_pooled)
    assert (heads - fused_heads).abs().max() < 1e-10
    assert (maps - fused_maps).abs().max() < 1e-10
    assert maps.abs().max() > 1  # non-trivial maps were compared


@pytest.mark.parametrize('num_heads', [1, 4])
def test_model_switch_to_deploy_matches(num_heads):
    model = build_model(num_heads=num_heads)
    assert isinstance(model, DAN) and isinstance(model, ImageClassifier)
    assert not model.deploy
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        logits = model(x, mode='tensor')
        model.switch_to_deploy()
        fused = model(x, mode='tensor')
        assert model.deploy
        model.switch_to_deploy()  # a second call is a no-op
    assert logits.abs().max() > 0.1  # not a trivially small output
    assert (logits - fused).abs().max().item() <= 1e-4
    keys = [k for k in model.state_dict() if k.startswith('neck.')]
    assert keys and all(k.startswith('neck.fused_heads.') for k in keys)


def test_deploy_checkpoint_round_trip(tmp_path):
    model = build_model()
    ckpt = save_checkpoint(model, tmp_path / 'dan.pth')
    code, _, stderr = run_tool(reparameterize_checkpoint,
                               Config.fromfile(CONFIG), ckpt,
                               str(tmp_path / 'dan_deploy.pth'), CONFIG)
    assert code == 0, stderr

    cfg = Config.fromfile(CONFIG)
    cfg.model.neck.deploy = True
    deployed = MODELS.build(cfg.model).eval()
    checkpoint = load_checkpoint(deployed, str(tmp_path / 'dan_deploy.pth'))
    assert checkpoint['meta']['deploy'] is True
    assert checkpoint['meta']['dataset_meta']['classes'][0] == 'Surprise'
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert (deployed(x, mode='tensor') -
                model(x, mode='tensor')).abs().max().item() <= 1e-4

    # The other form is refused with the fix, not half-loaded.
    with pytest.raises(ValueError, match='reparameterize_model.py'):
        load_checkpoint(deployed, ckpt)
    with pytest.raises(ValueError, match='deploy=True'):
        load_checkpoint(build_model(), str(tmp_path / 'dan_deploy.pth'))
