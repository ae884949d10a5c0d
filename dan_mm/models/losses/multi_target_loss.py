"""FERPlus's multi-target loss: any class the annotators agreed on is right."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


@MODELS.register_module()
class MultiTargetLoss(nn.Module):
    """The loss of FERPlus's ``multi_target`` mode (Barsoum et al., 2016).

    Microsoft's FERPlus code (``train.py``, ``cost_func``) trains that mode
    with ``-log(max_k t_k p_k)``: ``p`` the softmax of the logits and ``t``
    the target, 1 (minus 0.001) for every class with at least 30% of the
    votes and 0.001 elsewhere (``FERPlus(label_mode='multi_target')``'s
    ``gt_score``). The model is only pushed towards the voted class it
    already finds most likely. Computed in log space, in float32.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                **kwargs) -> torch.Tensor:
        """Compute the weighted loss.

        Args:
            cls_score (Tensor): Logits ``(N, num_classes)``.
            label (Tensor): Targets ``(N, num_classes)`` in ``(0, 1]``, or
                class indices ``(N, )`` (a one-hot target: plain
                cross-entropy).
            weight (Tensor, optional): Per-sample weights ``(N, )``.
            avg_factor (float, optional): Divide the sum by this instead of
                taking the mean.

        Returns:
            Tensor: The scalar loss.
        """
        log_p = F.log_softmax(cls_score.float(), dim=1)
        if label.dim() == 1:
            label = F.one_hot(label.long(), cls_score.size(1))
        log_t = label.float().clamp(min=torch.finfo(torch.float32).tiny).log()
        loss = -(log_t + log_p).max(dim=1).values
        if weight is not None:
            loss = loss * weight.float()
        loss = loss.sum() / avg_factor if avg_factor else loss.mean()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
