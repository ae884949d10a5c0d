"""Mixed precision: --amp on CPU (bf16) and the losses' float32 guards."""
import json
import math
import sys

import pytest
import torch
from config_utils import write_config
from mmengine.optim import AmpOptimWrapper
from tool_runner import run_tool

from dan_mm.engine.optimizers import BF16AmpOptimWrapper
from dan_mm.models.losses import AffinityLoss, PartitionLoss


@pytest.mark.slow
def test_amp_run_on_cpu_is_bf16_and_finite(synthfer_root, tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    # 32x32, batch 2: bf16 convolutions are slow on CPUs without bf16 units
    cfg = write_config(
        tmp_path / 'amp.py',
        synthfer_root,
        max_iters=2,
        batch_size=2,
        image_size=32,
        probe_dir=out)
    proc = run_tool(
        'tools/train.py',
        cfg,
        '--amp',
        '--work-dir',
        tmp_path / 'work',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.load(open(out / 'rank0.json'))
    assert info['optim_wrapper'] == 'BF16AmpOptimWrapper'
    assert info['cast_dtype'] == 'torch.bfloat16'
    assert len(info['losses']) == 2
    for losses in info['losses']:
        assert set(losses) >= {'loss', 'loss_cls', 'loss_af', 'loss_pt'}
        assert all(math.isfinite(v) for v in losses.values()), losses


def test_bf16_wrapper_autocasts_and_steps_on_cpu():
    model = torch.nn.Linear(4, 2)
    wrapper = BF16AmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert isinstance(wrapper, AmpOptimWrapper)
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(before, model.weight)
    # resumable like AmpOptimWrapper's checkpoints
    state = wrapper.state_dict()
    assert 'loss_scaler' in state
    wrapper.load_state_dict(state)
    with pytest.raises(ValueError, match='dtype should be any of'):
        BF16AmpOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            dtype='int8')


def partition_formula(heads):
    """The reference formula in float64."""
    variance = heads.double().var(dim=1).mean()
    return torch.log1p(heads.size(1) / (variance + sys.float_info.epsilon))


def affinity_formula(feats, labels, centers):
    feats, centers = feats.double(), centers.double()
    dist = (feats - centers[labels]).pow(2).sum(dim=1)
    spread = centers.var(dim=0).sum().clamp(min=1e-12)
    return (dist / spread).clamp(1e-12, 1e12).mean()


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_partition_loss_normal_range_equals_float32(dtype):
    torch.manual_seed(0)
    heads = torch.log_softmax(torch.randn(4, 4, 512), dim=1).to(dtype)
    loss = PartitionLoss()
    value = loss(heads)
    assert value.dtype == torch.float32
    assert torch.equal(value, loss(heads.float()))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert torch.equal(loss(heads), value)
    assert value.item() == pytest.approx(
        partition_formula(heads).item(), rel=1e-5)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_partition_loss_near_identical_heads_stays_finite(dtype):
    base = torch.randn(2, 1, 64)
    heads = (base + 1e-6 * torch.randn(2, 4, 64)).to(dtype)  # equal in dtype
    heads.requires_grad_(True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        value = PartitionLoss()(heads)
    assert torch.isfinite(value)
    assert value.item() == pytest.approx(
        partition_formula(heads).item(), rel=1e-5)
    value.backward()
    assert torch.isfinite(heads.grad).all()


def test_partition_loss_fp16_spread_beyond_fp16_range():
    """The variance of values ~300 overflows in fp16 (> 65504)."""
    torch.manual_seed(0)
    heads = (300 * torch.randn(2, 4, 16)).half()
    assert not torch.isfinite(heads.var(dim=1)).all()  # the trap
    value = PartitionLoss()(heads)
    assert value.item() == pytest.approx(
        partition_formula(heads).item(), rel=1e-5)
    assert value.item() > 0


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_affinity_loss_normal_range_equals_float32(dtype):
    torch.manual_seed(0)
    loss = AffinityLoss(num_classes=7)
    # the head passes the neck's pooled (N, C) feature, in autocast's dtype
    feats = torch.randn(6, 512).abs().to(dtype)
    labels = torch.tensor([0, 1, 2, 3, 4, 6])
    value = loss(feats, labels)
    assert value.dtype == torch.float32
    assert torch.equal(value, loss(feats.float(), labels))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert torch.equal(loss(feats, labels), value)
    assert value.item() == pytest.approx(
        affinity_formula(feats, labels, loss.centers.detach()).item(),
        rel=1e-5)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_affinity_loss_tiny_variance_centres_stay_finite(dtype):
    loss = AffinityLoss(num_classes=3, feat_dim=8)
    loss.centers.data = 1e-20 * torch.randn(3, 8) + 1.0  # spread ~ 0
    feats = torch.randn(4, 8).to(dtype).requires_grad_(True)
    labels = torch.tensor([0, 1, 2, 0])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        value = loss(feats, labels)
    assert torch.isfinite(value) and value.item() <= 1e12
    value.backward()
    assert torch.isfinite(feats.grad).all()
    assert torch.isfinite(loss.centers.grad).all()


def test_affinity_loss_fp16_distances_beyond_fp16_range():
    """Squared distances of fp16 features ~300 overflow in fp16."""
    torch.manual_seed(0)
    loss = AffinityLoss(num_classes=2, feat_dim=64)
    feats = (300 * torch.randn(3, 64)).half()
    labels = torch.tensor([0, 1, 0])
    value = loss(feats, labels)
    assert torch.isfinite(value)
    assert value.item() == pytest.approx(
        affinity_formula(feats, labels, loss.centers.detach()).item(),
        rel=1e-5)
