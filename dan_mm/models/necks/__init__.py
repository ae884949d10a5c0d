from .fused_man import FusedCrossAttentionHeads, GroupedLinear
from .man import (ChannelAttention, CrossAttentionHead,
                  MultiHeadCrossAttentionNeck, SpatialAttention)

__all__ = [
    'MultiHeadCrossAttentionNeck', 'CrossAttentionHead', 'SpatialAttention',
    'ChannelAttention', 'FusedCrossAttentionHeads', 'GroupedLinear'
]
