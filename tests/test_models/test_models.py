import math

import pytest
import torch
from fer_test_utils import build_model
from mmpretrain.structures import DataSample

from dan_mm.models import DAN, FusionClsHead, MultiHeadCrossAttentionNeck


def build_dan(num_classes=7, num_heads=4, init=True):
    """DAN with the runner's init (``init``) and untouched BN, train mode."""
    return build_model(
        num_classes=num_classes,
        init=init,
        random_bn=False,
        num_heads=num_heads).train()


def samples(labels):
    return [DataSample().set_gt_label(int(label)) for label in labels]


@pytest.mark.parametrize('num_heads', [1, 4])
def test_neck_shapes(num_heads):
    neck = MultiHeadCrossAttentionNeck(in_channels=512, num_heads=num_heads)
    x = torch.randn(2, 512, 3, 3)
    pooled, heads = neck((torch.randn(2, 256, 6, 6), x))  # last stage used
    assert pooled.shape == (2, 512) and heads.shape == (2, num_heads, 512)
    assert torch.allclose(pooled, x.mean(dim=(2, 3)))
    assert neck.attention_maps(x).shape == (2, num_heads, 3, 3)


def test_neck_rejects_pooled_input():
    neck = MultiHeadCrossAttentionNeck(
        in_channels=8, num_heads=2, mid_channels=4, reduction_channels=2)
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        neck(torch.randn(2, 8))


def test_neck_heads_are_independent_and_differ():
    torch.manual_seed(0)
    neck = MultiHeadCrossAttentionNeck(num_heads=3)
    neck.init_weights()
    neck.eval()
    x = torch.randn(2, 512, 4, 4)
    _, heads = neck(x)
    for i, head in enumerate(neck.heads):
        assert torch.allclose(heads[:, i], head(x), atol=1e-6)
    assert not torch.allclose(heads[:, 0], heads[:, 1])


def test_reference_init_after_init_weights():
    """What the runner's init_weights() leaves must be the reference init."""
    torch.manual_seed(0)
    model = build_dan()
    sa = model.neck.heads[0].sa
    conv = sa.conv_3x3[0]  # fan_out = 512 * 3 * 3
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2. / (512 * 9)), rel=0.05)
    assert conv.bias.abs().max() == 0
    bn = sa.conv1x1[1]
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    linear = model.neck.heads[0].ca.attention[0]
    assert linear.weight.std().item() == pytest.approx(0.001, rel=0.05)
    assert linear.bias.abs().max() == 0
    # AFN keeps PyTorch's default Linear init (uniform, bound 1/sqrt(512)),
    # not mmpretrain's Normal(std=0.01) head init.
    fc = model.head.fc.weight
    bound = 1 / math.sqrt(512)
    assert fc.abs().max() <= bound
    assert fc.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    centers = model.head.affinity_loss.centers
    assert centers.shape == (7, 512)
    assert centers.std().item() == pytest.approx(1.0, rel=0.05)


def test_centres_are_a_saved_trained_parameter():
    model = build_dan(num_classes=8)
    names = [n for n, _ in model.named_parameters() if n.endswith('centers')]
    assert names == ['head.affinity_loss.centers']
    assert model.state_dict()['head.affinity_loss.centers'].shape == (8, 512)


@pytest.mark.parametrize('num_heads', [1, 4])
def test_loss_keys_and_backward(num_heads):
    torch.manual_seed(0)
    model = build_dan(num_heads=num_heads)
    model.train()
    losses = model(torch.randn(3, 3, 64, 64), samples([0, 3, 6]), mode='loss')
    assert set(losses) == {'loss_cls', 'loss_af', 'loss_pt'}
    assert all(torch.isfinite(v) for v in losses.values())
    if num_heads == 1:
        assert losses['loss_pt'].item() == 0
    else:
        assert losses['loss_pt'].item() > 0
    sum(losses.values()).backward()
    assert model.head.affinity_loss.centers.grad.abs().sum() > 0
    assert model.neck.heads[0].sa.conv1x1[0].weight.grad.abs().sum() > 0


def test_loss_weights_scale_losses():
    torch.manual_seed(0)
    model = build_dan()
    model.train()
    x, data = torch.randn(2, 3, 64, 64), samples([1, 2])
    base = model(x, data, mode='loss')
    model.head.affinity_loss.loss_weight = 0.5
    model.head.partition_loss.loss_weight = 0.
    scaled = model(x, data, mode='loss')
    assert scaled['loss_af'].item() == pytest.approx(
        0.5 * base['loss_af'].item(), rel=1e-4)
    assert scaled['loss_pt'].item() == 0.


def test_predict_returns_probabilities():
    model = build_dan()
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64), mode='predict')
    assert len(out) == 2
    assert out[0].pred_score.shape == (7, )
    assert out[0].pred_score.sum().item() == pytest.approx(1.0, abs=1e-5)


def test_head_fusion_is_log_softmax_sum():
    head = FusionClsHead(num_classes=3, in_channels=4)
    head.eval()
    heads = torch.randn(2, 2, 4)
    expected = head.bn(head.fc(torch.log_softmax(heads, dim=1).sum(dim=1)))
    assert torch.allclose(head((None, heads)), expected)
    single = torch.randn(2, 1, 4)  # K = 1: no scaling
    assert torch.allclose(head((None, single)), head.bn(head.fc(single[:, 0])))


def test_checkpoint_with_other_shape_is_refused():
    model = build_dan(num_classes=7, num_heads=4)
    other_heads = build_dan(num_classes=7, num_heads=2, init=False)
    with pytest.raises(ValueError, match='num_heads=4'):
        model.load_state_dict(other_heads.state_dict(), strict=False)
    other_classes = build_dan(num_classes=8, num_heads=4, init=False)
    with pytest.raises(ValueError, match='num_classes=7'):
        model.load_state_dict(other_classes.state_dict(), strict=False)


def test_public_stages_compose_to_the_forward():
    """What tools use instead of reaching into backbone / neck / head."""
    # PyTorch's init is enough for stages that must compose exactly, and
    # skips a second of init_weights()
    model = build_model(num_heads=2, init=False)
    assert isinstance(model, DAN)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        feats = model.backbone_features(x)
        assert feats[-1].shape == (2, 512, 2, 2)
        logits = model.logits_from_features(feats)
        assert torch.equal(logits, model(x, mode='tensor'))
        assert torch.equal(model.logits(x), logits)
        maps = model.attention_maps_from_features(feats)
        assert maps.shape == (2, 2, 2, 2)
        assert torch.equal(model.attention_maps(x), maps)
        # the fused AFN feature, mmpretrain's pre_logits stage
        assert model.extract_feat(x, stage='pre_logits').shape == (2, 512)
