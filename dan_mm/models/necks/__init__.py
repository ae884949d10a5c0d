from .man import (ChannelAttention, CrossAttentionHead,
                  MultiHeadCrossAttentionNeck, SpatialAttention)

__all__ = [
    'MultiHeadCrossAttentionNeck', 'CrossAttentionHead', 'SpatialAttention',
    'ChannelAttention'
]
