import math
import sys

import pytest
import torch
from fer_test_utils import REPO
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from reference_dan import reference_affinity_loss, reference_partition_loss

from dan_mm.models.losses import AffinityLoss, MultiTargetLoss, PartitionLoss
from dan_mm.utils.errors import ConfigError


def test_affinity_loss_hand_computed():
    loss = AffinityLoss(num_classes=2, feat_dim=2)
    loss.centers.data = torch.tensor([[0., 0.], [2., 4.]])
    feats = torch.tensor([[1., 0.], [2., 2.]])
    labels = torch.tensor([0, 1])
    # spread: unbiased var over classes per dim = (2, 8) -> 10
    # distances: |(1,0)-(0,0)|^2 = 1, |(2,2)-(2,4)|^2 = 4 -> (1/10 + 4/10)/2
    assert loss(feats, labels).item() == pytest.approx(0.25)
    # a feature map is average pooled first
    fmap = feats[:, :, None, None].expand(2, 2, 3, 3)
    assert loss(fmap, labels).item() == pytest.approx(0.25)


def test_affinity_loss_weight_and_grad_reaches_centres():
    loss = AffinityLoss(num_classes=3, feat_dim=4, loss_weight=0.5)
    feats = torch.randn(5, 4)
    labels = torch.tensor([0, 1, 2, 0, 1])
    full = AffinityLoss(num_classes=3, feat_dim=4)
    full.centers.data = loss.centers.data.clone()
    value = loss(feats, labels)
    assert value.item() == pytest.approx(0.5 * full(feats, labels).item())
    value.backward()
    assert loss.centers.grad is not None and loss.centers.grad.abs().sum() > 0


@pytest.mark.parametrize('num_classes', [7, 8])
def test_affinity_loss_matches_reference_form(num_classes):
    torch.manual_seed(0)
    loss = AffinityLoss(num_classes=num_classes)
    x = torch.randn(6, 512, 7, 7).abs()
    labels = torch.randint(0, num_classes, (6, ))
    ours = loss(x, labels)
    ref = reference_affinity_loss(x, labels, loss.centers.detach())
    assert torch.allclose(ours, ref, rtol=1e-5)


def test_affinity_loss_extra_centre_counts_in_the_spread_only():
    # 2 classes, 3 centres: no sample targets the third one, but the spread
    # is over all three: var (0, 2, 4) = 4 and var (0, 4, 8) = 16 -> 20
    loss = AffinityLoss(num_classes=2, feat_dim=2, num_centers=3)
    loss.centers.data = torch.tensor([[0., 0.], [2., 4.], [4., 8.]])
    feats = torch.tensor([[1., 0.], [2., 2.]])
    assert loss(feats, torch.tensor([0, 1])).item() == pytest.approx(
        (1 / 20 + 4 / 20) / 2)


def test_eight_centres_for_seven_classes_match_the_reference():
    """The published RAF-DB run: 8 centres, labels 0..6. Values and the
    gradients reaching features and centres equal the reference formula."""
    torch.manual_seed(0)
    loss = AffinityLoss(num_classes=7, num_centers=8)
    assert loss.centers.shape == (8, 512)
    x = torch.randn(16, 512, 7, 7).abs().requires_grad_()
    labels = torch.arange(16) % 7
    ours = loss(x, labels)
    ours.backward()
    grads = x.grad.clone(), loss.centers.grad.clone()
    x.grad = None
    centers = loss.centers.detach().clone().requires_grad_()
    ref = reference_affinity_loss(x, labels, centers)
    ref.backward()
    assert torch.allclose(ours, ref, rtol=1e-5)
    assert torch.allclose(grads[0], x.grad, rtol=1e-4, atol=1e-9)
    assert torch.allclose(grads[1], centers.grad, rtol=1e-4, atol=1e-9)
    assert centers.grad[7].abs().sum() > 0  # trained through the spread


def test_num_centers_one_line_override_reaches_the_loss():
    cfg = Config.fromfile(f'{REPO}/configs/_base_/models/dan_r18.py')
    cfg.merge_from_dict({'model.head.affinity_loss.num_centers': 8})
    head = MODELS.build(cfg.model.head)
    assert head.affinity_loss.centers.shape == (8, 512)
    assert head.fc.out_features == 7
    torch.manual_seed(1)
    pooled, heads = torch.randn(4, 512), torch.randn(4, 4, 512)
    labels = torch.tensor([0, 3, 6, 2])
    losses = head.loss((pooled, heads),
                       [DataSample().set_gt_label(int(i)) for i in labels])
    ref = reference_affinity_loss(pooled[:, :, None, None], labels,
                                  head.affinity_loss.centers.detach())
    assert losses['loss_af'].item() == pytest.approx(ref.item(), rel=1e-5)


def test_fewer_centres_than_classes_is_refused():
    with pytest.raises(ConfigError, match='num_centers=6 .* num_classes=7'):
        AffinityLoss(num_classes=7, num_centers=6)


def test_affinity_loss_identical_centres_stay_finite():
    loss = AffinityLoss(num_classes=3, feat_dim=4)
    loss.centers.data.zero_()
    value = loss(torch.randn(2, 4), torch.tensor([0, 1]))
    assert torch.isfinite(value)


def test_partition_loss_hand_computed():
    # two heads, one sample, two channels: variances across heads
    # var([0, 2]) = 2, var([1, 1]) = 0 -> mean 1 -> log(1 + 2 / 1)
    heads = torch.tensor([[[0., 1.], [2., 1.]]])
    assert PartitionLoss()(heads).item() == pytest.approx(math.log(3.))
    assert PartitionLoss(loss_weight=2.)(heads).item() == pytest.approx(
        2 * math.log(3.))


def test_partition_loss_single_head_is_zero():
    assert PartitionLoss()(torch.randn(3, 1, 8)).item() == 0.


def test_partition_loss_matches_reference():
    heads = torch.log_softmax(torch.randn(4, 4, 512), dim=1)
    assert torch.allclose(
        PartitionLoss()(heads), reference_partition_loss(heads), rtol=1e-5)


def test_partition_loss_eps_is_float_epsilon():
    assert PartitionLoss().eps == sys.float_info.epsilon
    # equal heads: zero variance, the loss is large but finite
    assert torch.isfinite(PartitionLoss()(torch.ones(2, 4, 3)))


def test_multi_target_loss_hand_computed():
    """-log(max_k t_k p_k), Microsoft's FERPlus multi_target cost."""
    logits = torch.tensor([[0., math.log(3.), 0.], [0., 0., 0.]])
    # p = (1/5, 3/5, 1/5) and (1/3, 1/3, 1/3)
    target = torch.tensor([[1., 0.001, 1.], [0.001, 1., 0.001]])
    loss = MultiTargetLoss()(logits, target)
    # row 1: max(1/5, 0.0006, 1/5) = 1/5; row 2: 1/3
    expected = (math.log(5) + math.log(3)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # a voted class the model already prefers is all that is pushed up
    logits.requires_grad_(True)
    MultiTargetLoss()(logits[:1], torch.tensor([[1., 1., 0.001]])).backward()
    assert logits.grad[0, 1] < 0 and logits.grad[0, 0] > 0
    # hard labels: plain cross-entropy; weight and avg_factor as mmpretrain
    hard = MultiTargetLoss(loss_weight=2.)(logits.detach(),
                                           torch.tensor([1, 2]))
    ce = torch.nn.functional.cross_entropy(logits.detach(),
                                           torch.tensor([1, 2]))
    assert hard.item() == pytest.approx(2 * ce.item(), rel=1e-6)
    summed = MultiTargetLoss()(logits.detach(), target, avg_factor=1)
    assert summed.item() == pytest.approx(2 * expected, rel=1e-6)
