"""DAN on CUDA, with a CPU twin of every test.

Each test runs on ``cpu`` here and on ``cuda`` (marked ``gpu``) where a GPU
is, e.g. through ``.ci/gpu/gpu_check.sh``: the logic is proven on the CPU,
the GPU run only adds the device. fp32 comparisons switch TF32 off, which
cuDNN uses by default for fp32 convolutions on Ampere and later GPUs (about
1e-3 relative error, far above fp32 rounding).
"""
import pytest
import torch
from fer_test_utils import build_model
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

# The CPU runs are in the full suite (slow tier), the CUDA runs in the GPU
# check.
DEVICES = [
    pytest.param('cpu', marks=pytest.mark.slow),
    pytest.param('cuda', marks=pytest.mark.gpu)
]


@pytest.fixture
def no_tf32():
    old = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = old


def batch(device, num=4, size=32, seed=0):
    """Normalised-looking images ``(num, 3, size, size)`` and samples whose
    labels cover several of the 7 classes, on ``device`` (as the data
    preprocessor leaves them)."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(num, 3, size, size, generator=gen).to(device)
    samples = [DataSample().set_gt_label(i % 7).to(device) for i in range(num)]
    return inputs, samples


def train_model(device, seed=0, **kwargs):
    return build_model(seed=seed, **kwargs).train().to(device)


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('num_heads', [1, 4])
def test_forward_backward(device, num_heads):
    model = train_model(device, num_heads=num_heads)
    inputs, samples = batch(device)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_cls', 'loss_af', 'loss_pt'}
    assert all(torch.isfinite(v) for v in losses.values()), losses
    sum(losses.values()).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.device.type == device
    assert model.head.affinity_loss.centers.grad.abs().sum() > 0
    with torch.no_grad():
        logits = model.eval()(inputs, mode='tensor')
    assert logits.shape == (4, 7) and torch.isfinite(logits).all()


@pytest.mark.parametrize('device', DEVICES)
def test_deploy_matches_plain(device, no_tf32):
    model = build_model(seed=3).to(device)
    inputs, _ = batch(device, size=64)  # 2x2 maps: the fused 3x3 kernels
    with torch.no_grad():
        plain = model(inputs, mode='tensor')
        model.switch_to_deploy()
        fused = model(inputs, mode='tensor')
    assert model.neck.deploy
    assert plain.abs().max() > 0.1  # not a trivially small output
    torch.testing.assert_close(fused, plain, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_autocast_losses_are_fp32_and_finite(device, dtype):
    model = train_model(device)
    inputs, samples = batch(device)
    with torch.autocast(device_type=device, dtype=dtype):
        fmap = model.extract_feat(inputs, stage='backbone')
        losses = model.head.loss(model.neck(fmap), samples)
    # Autocast is on: convolutions run in dtype on every device (which
    # other ops stay in float32 differs between CPU and CUDA autocast).
    assert fmap[-1].dtype == dtype
    for name, value in losses.items():
        assert value.dtype == torch.float32, name
        assert torch.isfinite(value), (name, value)
    sum(losses.values()).backward()
    for name, param in model.named_parameters():
        assert torch.isfinite(param.grad).all(), name


@pytest.mark.parametrize('device', DEVICES)
def test_channels_last_training_step_equals_contiguous(device, no_tf32):
    """One SGD step of two identical models, NCHW and NHWC: same losses,
    same weights after the step."""
    models = [
        train_model(device, seed=1, channels_last=cl) for cl in (False, True)
    ]
    conv = models[1].backbone.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()
    inputs, samples = batch(device, seed=1)
    results = []
    for model in models:
        wrapper = OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
        losses = model.loss(inputs, samples)
        wrapper.update_params(sum(losses.values()))
        results.append(losses)
    for name in results[0]:
        torch.testing.assert_close(
            results[1][name], results[0][name], rtol=1e-4, atol=1e-5)
    params = [dict(m.named_parameters()) for m in models]
    for name, param in params[0].items():
        torch.testing.assert_close(
            params[1][name], param, rtol=1e-4, atol=1e-5, msg=name)
    assert not torch.equal(params[0]['backbone.conv1.weight'],
                           build_model(seed=1).backbone.conv1.weight.to(
                               device))  # the step changed the weights


@pytest.mark.parametrize('device', DEVICES)
def test_channels_last_switch_keeps_layout_init_and_outputs(device, no_tf32):
    plain = build_model(seed=2).to(device)
    model = build_model(seed=2, channels_last=True).to(device)
    convs = [p for p in model.parameters() if p.dim() == 4]
    assert convs and all(
        p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    for (name, a), b in zip(plain.state_dict().items(),
                            model.state_dict().values()):
        assert torch.equal(a, b), name  # a seed gives the same weights
    inputs, _ = batch(device, size=64)
    with torch.no_grad():
        expected = plain(inputs, mode='tensor')
        torch.testing.assert_close(
            model(inputs, mode='tensor'), expected, rtol=1e-4, atol=1e-4)
        assert model.attention_maps(inputs).shape == (4, 4, 2, 2)
        model.switch_to_deploy()
        fused = model.neck.fused_heads.spatial.weight
        assert fused.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(
            model(inputs, mode='tensor'), expected, rtol=1e-4, atol=1e-4)
