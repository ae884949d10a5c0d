"""An independent DAN in the reference code's layout, for parity tests.

Written from the behaviour stated in shared/docs/dan-reference.md: module
names match the reference checkpoint keys (``features.*``, ``cat_head{i}``,
``fc``, ``bn``) and the losses use the reference's formulation (the expanded
distance over a masked ``N x num_classes`` matrix for the affinity loss), so
that dan_mm's own formulation is checked against a different computation.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def _conv_bn(cin, cout, kernel, pad):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, padding=pad), nn.BatchNorm2d(cout))


class RefSpatial(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv1x1 = _conv_bn(512, 256, 1, 0)
        self.conv_3x3 = _conv_bn(256, 512, 3, 1)
        self.conv_1x3 = _conv_bn(256, 512, (1, 3), (0, 1))
        self.conv_3x1 = _conv_bn(256, 512, (3, 1), (1, 0))

    def forward(self, x):
        y = self.conv1x1(x)
        y = F.relu(self.conv_3x3(y) + self.conv_1x3(y) + self.conv_3x1(y))
        return x * y.sum(dim=1, keepdim=True)


class RefChannel(nn.Module):

    def __init__(self):
        super().__init__()
        self.attention = nn.Sequential(
            nn.Linear(512, 32), nn.BatchNorm1d(32), nn.ReLU(inplace=True),
            nn.Linear(32, 512), nn.Sigmoid())

    def forward(self, x):
        g = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return g * self.attention(g)


class RefHead(nn.Module):

    def __init__(self):
        super().__init__()
        self.sa = RefSpatial()
        self.ca = RefChannel()

    def forward(self, x):
        return self.ca(self.sa(x))


class ReferenceDAN(nn.Module):
    """Returns ``(logits, feature map, heads)`` like the reference."""

    def __init__(self, num_classes=7, num_heads=4):
        super().__init__()
        resnet = torchvision.models.resnet18()
        self.features = nn.Sequential(*list(resnet.children())[:-2])
        self.num_heads = num_heads
        for i in range(num_heads):
            setattr(self, f'cat_head{i}', RefHead())
        self.fc = nn.Linear(512, num_classes)
        self.bn = nn.BatchNorm1d(num_classes)

    def forward(self, x):
        x = self.features(x)
        heads = torch.stack(
            [getattr(self, f'cat_head{i}')(x) for i in range(self.num_heads)],
            dim=1)
        if heads.size(1) > 1:
            heads = F.log_softmax(heads, dim=1)
        return self.bn(self.fc(heads.sum(dim=1))), x, heads


def reference_affinity_loss(x, labels, centers):
    """Expanded-distance, masked-matrix form, as the reference computes it."""
    f = F.adaptive_avg_pool2d(x, 1).flatten(1)
    n, c = f.size(0), centers.size(0)
    dist = f.pow(2).sum(1, keepdim=True).expand(n, c) + \
        centers.pow(2).sum(1, keepdim=True).expand(c, n).t()
    dist = dist.addmm(f, centers.t(), beta=1, alpha=-2)
    mask = labels.unsqueeze(1).eq(torch.arange(c).unsqueeze(0)).float()
    dist = dist * mask / centers.var(dim=0).sum()
    return dist.clamp(min=1e-12, max=1e12).sum() / n


def reference_partition_loss(heads):
    k = heads.size(1)
    if k == 1:
        return torch.tensor(0.)
    return torch.log(1 + k /
                     (heads.var(dim=1).mean() + sys.float_info.epsilon))


def randomise_batchnorm(model, seed=0):
    """Give every BatchNorm non-trivial running stats and affine params."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)
    return model


def save_reference_checkpoint(path, num_classes=7, num_heads=4, seed=0):
    """Build a random reference-layout model and save it as the reference
    does: ``{'iter', 'model_state_dict', 'optimizer_state_dict'}``."""
    torch.manual_seed(seed)
    model = randomise_batchnorm(ReferenceDAN(num_classes, num_heads), seed)
    torch.save(
        {
            'iter': 21,
            'model_state_dict': model.state_dict(),
            'optimizer_state_dict': {}
        }, path)
    return model
