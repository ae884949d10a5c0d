"""MAN in deploy form: K cross-attention heads fused into grouped layers.

Structural re-parameterisation (as RepVGG's ``switch_to_deploy`` in
mmpretrain), valid for inference only since BatchNorm's running statistics
are folded into the convolutions and linears:

- each head's 1x1 conv + BN becomes one 1x1 conv, and the K of them one
  conv with ``K * mid_channels`` outputs;
- each head's three parallel conv + BN branches (3x3, 1x3, 3x1) become one
  3x3 conv (the 1x3 and 3x1 kernels zero-padded to 3x3, biases summed), and
  the K of them one grouped 3x3 conv (``groups=K``);
- the channel units' Linear + BatchNorm1d fold into one Linear, and the K
  gates run as batched matrix products (:class:`GroupedLinear`).
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def fuse_conv_bn(conv_bn: nn.Sequential) -> Tuple[torch.Tensor, torch.Tensor]:
    """Fold an eval-mode BatchNorm2d into the biased conv before it.

    Args:
        conv_bn (nn.Sequential): ``Sequential(Conv2d, BatchNorm2d)``.

    Returns:
        tuple[Tensor, Tensor]: The fused kernel ``(C_out, C_in, kh, kw)`` and
        bias ``(C_out, )``.
    """
    conv, bn = conv_bn[0], conv_bn[1]
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight * scale.reshape(-1, 1, 1, 1)
    bias = (conv.bias - bn.running_mean) * scale + bn.bias
    return weight, bias


def fuse_linear_bn(linear: nn.Linear,
                   bn: nn.BatchNorm1d) -> Tuple[torch.Tensor, torch.Tensor]:
    """Fold an eval-mode BatchNorm1d into the Linear before it.

    Returns:
        tuple[Tensor, Tensor]: Weight ``(out, in)`` and bias ``(out, )``.
    """
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    weight = linear.weight * scale.unsqueeze(1)
    bias = (linear.bias - bn.running_mean) * scale + bn.bias
    return weight, bias


def pad_to_3x3(kernel: torch.Tensor) -> torch.Tensor:
    """Zero-pad a 1x3, 3x1 (or 1x1) kernel to 3x3, centred.

    With the branch paddings of the spatial unit ((0, 1) for 1x3, (1, 0) for
    3x1, 1 for 3x3) the padded kernel gives the same outputs at every
    position.
    """
    kh, kw = kernel.shape[-2:]
    return F.pad(kernel, [(3 - kw) // 2, (3 - kw) // 2, (3 - kh) // 2,
                          (3 - kh) // 2])


class GroupedLinear(nn.Module):
    """K independent Linear layers applied to K features at once.

    Args:
        num_groups (int): Number of independent linears K.
        in_features (int): Input width of each.
        out_features (int): Output width of each.
    """

    def __init__(self, num_groups: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(
            torch.zeros(num_groups, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(num_groups, 1, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(K, N, in_features) -> (K, N, out_features), one bmm."""
        return torch.baddbmm(self.bias, x, self.weight)


class FusedCrossAttentionHeads(nn.Module):
    """The K cross-attention heads of MAN as one grouped computation.

    Built empty from the shapes (for a deploy config / checkpoint), then
    filled from trained heads with :meth:`load_from_heads`.

    Args:
        in_channels (int): Channels C of the backbone feature map.
        num_heads (int): Number of heads K.
        mid_channels (int): Channels M inside each spatial unit.
        reduction_channels (int): Bottleneck R of each channel unit.
    """

    def __init__(self,
                 in_channels: int = 512,
                 num_heads: int = 4,
                 mid_channels: int = 256,
                 reduction_channels: int = 32):
        super().__init__()
        self.num_heads = num_heads
        # Spatial units: 1x1 reductions (K*M), then per-head 3x3 (groups=K).
        self.reduce = nn.Conv2d(in_channels, num_heads * mid_channels, 1)
        self.spatial = nn.Conv2d(
            num_heads * mid_channels,
            num_heads * in_channels,
            3,
            padding=1,
            groups=num_heads)
        self.relu = nn.ReLU()
        # Channel units: Linear(+BN folded)-ReLU-Linear-Sigmoid per head.
        self.channel_fc1 = GroupedLinear(num_heads, in_channels,
                                         reduction_channels)
        self.channel_fc2 = GroupedLinear(num_heads, reduction_channels,
                                         in_channels)

    def attention_maps(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> every head's spatial attention map (N, K, H, W)."""
        n, c, h, w = x.shape
        y = self.relu(self.spatial(self.reduce(x)))
        return y.reshape(n, self.num_heads, c, h, w).sum(dim=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the K heads.

        Args:
            x (Tensor): Backbone feature map ``(N, C, H, W)``.

        Returns:
            Tensor: Head features ``(N, K, C)``.
        """
        maps = self.attention_maps(x).flatten(2)  # (N, K, HW)
        # GAP(x * map_k) for every k at once: (N, K, HW) @ (N, HW, C) / HW.
        pooled = torch.bmm(maps, x.flatten(2).transpose(1, 2)) / maps.size(2)
        pooled = pooled.transpose(0, 1)  # (K, N, C)
        gate = torch.sigmoid(
            self.channel_fc2(self.relu(self.channel_fc1(pooled))))
        return (pooled * gate).transpose(0, 1)

    @torch.no_grad()
    def load_from_heads(self, heads: Sequence[nn.Module]) -> None:
        """Fuse trained :class:`CrossAttentionHead` modules into this one.

        Args:
            heads (Sequence[CrossAttentionHead]): The K heads, whose BN
                layers' running statistics are folded in.
        """
        reduce_w, reduce_b, spatial_w, spatial_b = [], [], [], []
        fc1_w, fc1_b, fc2_w, fc2_b = [], [], [], []
        for head in heads:
            sa, gate = head.sa, head.ca.attention
            weight, bias = fuse_conv_bn(sa.conv1x1)
            reduce_w.append(weight)
            reduce_b.append(bias)
            branches = [
                fuse_conv_bn(branch)
                for branch in (sa.conv_3x3, sa.conv_1x3, sa.conv_3x1)
            ]
            spatial_w.append(sum(pad_to_3x3(w) for w, _ in branches))
            spatial_b.append(sum(b for _, b in branches))
            weight, bias = fuse_linear_bn(gate[0], gate[1])
            fc1_w.append(weight.t())
            fc1_b.append(bias)
            fc2_w.append(gate[3].weight.t())
            fc2_b.append(gate[3].bias)
        self.reduce.weight.copy_(torch.cat(reduce_w))
        self.reduce.bias.copy_(torch.cat(reduce_b))
        self.spatial.weight.copy_(torch.cat(spatial_w))
        self.spatial.bias.copy_(torch.cat(spatial_b))
        self.channel_fc1.weight.copy_(torch.stack(fc1_w))
        self.channel_fc1.bias.copy_(torch.stack(fc1_b).unsqueeze(1))
        self.channel_fc2.weight.copy_(torch.stack(fc2_w))
        self.channel_fc2.bias.copy_(torch.stack(fc2_b).unsqueeze(1))
