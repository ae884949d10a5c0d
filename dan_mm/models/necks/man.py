"""MAN: DAN's multi-head attention network, as an MMPretrain neck."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from dan_mm.utils.errors import CheckpointMismatchError, ConfigError
from .fused_man import FusedCrossAttentionHeads


def conv_bn(in_channels: int,
            out_channels: int,
            kernel_size: Union[int, Tuple[int, int]],
            padding: Union[int, Tuple[int, int]] = 0) -> nn.Sequential:
    """A biased conv followed by BatchNorm2d (keys ``0.*`` and ``1.*``)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding),
        nn.BatchNorm2d(out_channels))


class SpatialAttention(nn.Module):
    """Spatial unit of a cross-attention head.

    A 1x1 reduction, then three parallel conv+BN branches (3x3, 1x3, 3x1)
    summed and ReLU-ed; summing over channels gives one attention map that
    re-weights every position of the input.

    Args:
        in_channels (int): Channels of the backbone feature map.
        mid_channels (int): Channels after the 1x1 reduction.
    """

    def __init__(self, in_channels: int = 512, mid_channels: int = 256):
        super().__init__()
        self.conv1x1 = conv_bn(in_channels, mid_channels, 1)
        self.conv_3x3 = conv_bn(mid_channels, in_channels, 3, padding=1)
        self.conv_1x3 = conv_bn(mid_channels, in_channels, (1, 3), (0, 1))
        self.conv_3x1 = conv_bn(mid_channels, in_channels, (3, 1), (1, 0))
        self.relu = nn.ReLU()

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> the spatial attention map (N, 1, H, W)."""
        y = self.conv1x1(x)
        y = self.relu(self.conv_3x3(y) + self.conv_1x3(y) + self.conv_3x1(y))
        return y.sum(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> the attended feature map (N, C, H, W)."""
        return x * self.attention_map(x)


class ChannelAttention(nn.Module):
    """Channel unit of a cross-attention head.

    Global average pooling, then a Linear-BN-ReLU-Linear-Sigmoid gate that
    re-weights the pooled channels.

    Args:
        channels (int): Channels of the feature map.
        reduction_channels (int): Width of the gate's bottleneck.
    """

    def __init__(self, channels: int = 512, reduction_channels: int = 32):
        super().__init__()
        self.attention = nn.Sequential(
            nn.Linear(channels, reduction_channels),
            nn.BatchNorm1d(reduction_channels), nn.ReLU(inplace=True),
            nn.Linear(reduction_channels, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> the gated pooled feature (N, C)."""
        pooled = x.mean(dim=(2, 3))
        return pooled * self.attention(pooled)


class CrossAttentionHead(nn.Module):
    """One head of MAN: a spatial unit, then a channel unit.

    Args:
        in_channels (int): Channels of the backbone feature map.
        mid_channels (int): Channels inside the spatial unit.
        reduction_channels (int): Bottleneck of the channel unit.
    """

    def __init__(self,
                 in_channels: int = 512,
                 mid_channels: int = 256,
                 reduction_channels: int = 32):
        super().__init__()
        self.sa = SpatialAttention(in_channels, mid_channels)
        self.ca = ChannelAttention(in_channels, reduction_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> the head's feature (N, C)."""
        return self.ca(self.sa(x))


# The reference initialises each head in its constructor; here the same init
# is the neck's ``init_cfg``, which the runner applies via ``init_weights()``.
# (kaiming_normal_ with its default leaky_relu gain and a=0 equals 'relu'.)
REFERENCE_HEAD_INIT = [
    dict(type='Kaiming', layer='Conv2d', mode='fan_out', bias=0.),
    dict(type='Constant', layer='BatchNorm2d', val=1., bias=0.),
    dict(type='Normal', layer='Linear', std=0.001, bias=0.),
]


@MODELS.register_module()
class MultiHeadCrossAttentionNeck(BaseModule):
    """MAN of DAN: K parallel cross-attention heads on one feature map.

    Every head sees the same backbone feature map and returns a C-dim
    feature; the neck stacks them. It also hands on the globally pooled
    backbone feature, which the affinity loss of the FCN needs.

    Args:
        in_channels (int): Channels of the backbone's last feature map
            (512 for ResNet-18). Defaults to 512.
        num_heads (int): Number of cross-attention heads K. Defaults to 4.
        mid_channels (int): Channels inside each spatial unit.
            Defaults to 256 (the reference's value).
        reduction_channels (int): Bottleneck of each channel unit.
            Defaults to 32 (the reference's value).
        deploy (bool): Build the fused inference-only form
            (:class:`FusedCrossAttentionHeads`, keys ``fused_heads.*``), as
            saved by ``tools/model_converters/reparameterize_model.py``.
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to the reference's head init.
    """

    def __init__(self,
                 in_channels: int = 512,
                 num_heads: int = 4,
                 mid_channels: int = 256,
                 reduction_channels: int = 32,
                 deploy: bool = False,
                 init_cfg: Optional[Union[dict,
                                          List[dict]]] = REFERENCE_HEAD_INIT):
        super().__init__(init_cfg=init_cfg)
        if num_heads < 1:
            raise ConfigError(
                f'model.neck.num_heads must be >= 1, got {num_heads}')
        self.in_channels = in_channels
        self.num_heads = num_heads
        self.mid_channels = mid_channels
        self.reduction_channels = reduction_channels
        self.deploy = deploy
        if deploy:
            self.fused_heads = self._build_fused_heads()
        else:
            self.heads = nn.ModuleList(
                CrossAttentionHead(in_channels, mid_channels,
                                   reduction_channels)
                for _ in range(num_heads))

    def _build_fused_heads(self) -> FusedCrossAttentionHeads:
        return FusedCrossAttentionHeads(self.in_channels, self.num_heads,
                                        self.mid_channels,
                                        self.reduction_channels)

    def switch_to_deploy(self) -> None:
        """Fuse the K heads into one grouped computation (inference only).

        Each head's conv+BN branches become one 3x3 conv, its 1x1 conv+BN
        one conv, its channel unit's BatchNorm1d folds into the Linear before
        it; the K heads then run as grouped convs and batched matmuls. Call
        it on a trained model: BN running statistics are folded in, so the
        fused neck matches the original in eval mode only.
        """
        if self.deploy:
            return
        # Same device and dtype as the trained heads.
        fused = self._build_fused_heads().to(next(self.heads.parameters()))
        fused.load_from_heads(self.heads)
        del self.heads
        self.fused_heads = fused
        self.deploy = True

    @staticmethod
    def _last_feature_map(
            inputs: Union[torch.Tensor,
                          Sequence[torch.Tensor]]) -> torch.Tensor:
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.dim() != 4:
            raise ConfigError(
                'MultiHeadCrossAttentionNeck needs an (N, C, H, W) feature '
                f'map from the backbone, got shape {tuple(x.shape)}; set '
                'model.backbone to give feature maps (timm: '
                'features_only=True)')
        return x

    def forward(
        self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run every head on the backbone's last feature map.

        Args:
            inputs (Tensor | tuple[Tensor]): Backbone output; the last item
                is the feature map ``(N, C, H, W)``.

        Returns:
            tuple[Tensor, Tensor]: ``(pooled, heads)``: the pooled backbone
            feature ``(N, C)`` for the affinity loss and the stacked head
            features ``(N, K, C)``.
        """
        x = self._last_feature_map(inputs)
        if self.deploy:
            heads = self.fused_heads(x)
        else:
            heads = torch.stack([head(x) for head in self.heads], dim=1)
        return x.mean(dim=(2, 3)), heads

    def attention_maps(
            self, inputs: Union[torch.Tensor,
                                Sequence[torch.Tensor]]) -> torch.Tensor:
        """Spatial attention map of every head, for visualisation.

        Args:
            inputs (Tensor | tuple[Tensor]): Backbone output.

        Returns:
            Tensor: Maps of shape ``(N, K, H, W)``.
        """
        x = self._last_feature_map(inputs)
        if self.deploy:
            return self.fused_heads.attention_maps(x)
        return torch.cat([head.sa.attention_map(x) for head in self.heads],
                         dim=1)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A checkpoint with another K, or in the other (deploy / training)
        # form, would otherwise load partly and only warn (mmengine loads
        # non-strictly): refuse it clearly instead.
        found = {
            key[len(prefix):].split('.')[1]
            for key in state_dict if key.startswith(prefix + 'heads.')
        }
        fused = state_dict.get(prefix + 'fused_heads.channel_fc1.weight')
        if self.deploy and found:
            raise CheckpointMismatchError(
                f'The checkpoint holds the training form of the neck '
                f'("{prefix}heads.*") but the config builds '
                'model.neck.deploy=True: convert it with tools/'
                'model_converters/reparameterize_model.py, or build with '
                'deploy=False and call model.switch_to_deploy().')
        if not self.deploy and fused is not None:
            raise CheckpointMismatchError(
                f'The checkpoint holds the fused deploy form of the neck '
                f'("{prefix}fused_heads.*"): set model.neck.deploy=True.')
        if fused is not None:
            found = range(fused.shape[0])
        if found and len(found) != self.num_heads:
            raise CheckpointMismatchError(
                f'The checkpoint has {len(found)} attention heads under '
                f'"{prefix}heads.*" but the config builds num_heads='
                f'{self.num_heads}; set model.neck.num_heads={len(found)}.')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
