"""Partition loss: makes DAN's attention heads look at different regions."""
import sys

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS


@MODELS.register_module()
class PartitionLoss(nn.Module):
    """Reward variance across the attention heads.

    The loss of DAN's AFN (Wen et al., Eq. 8): for the (log-softmax scaled)
    head features ``heads`` of shape ``(N, K, C)``,

    .. math::
        L_{pt} = \\log\\left(1 +
                 \\frac{K}{\\bar{\\sigma}^2 + \\epsilon}\\right)

    where :math:`\\bar{\\sigma}^2` is the mean over samples and channels of
    the unbiased variance across the K heads. It is 0 for a single head.

    Computed in float32 so that mixed precision cannot make the variance
    underflow; ``eps`` keeps the reference's value (Python's float epsilon).

    Args:
        loss_weight (float): Weight of the loss (lambda_pt). Defaults to 1.0.
        eps (float): Added to the variance.
            Defaults to ``sys.float_info.epsilon``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 eps: float = sys.float_info.epsilon):
        super().__init__()
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self, heads: torch.Tensor) -> torch.Tensor:
        """Compute the weighted partition loss.

        Args:
            heads (Tensor): Head features, shape ``(N, K, C)``.

        Returns:
            Tensor: The scalar loss (0 when ``K == 1``).
        """
        num_heads = heads.size(1)
        if num_heads == 1:
            return heads.new_zeros((), dtype=torch.float32)
        variance = heads.float().var(dim=1).mean()
        loss = torch.log1p(num_heads / (variance + self.eps))
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}, eps={self.eps}'
