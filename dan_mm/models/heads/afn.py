"""AFN: DAN's attention fusion network, as an MMPretrain cls head."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from dan_mm.utils.errors import CheckpointMismatchError, ConfigError


@MODELS.register_module()
class FusionClsHead(ClsHead):
    """AFN of DAN: fuse the K head features, classify, and own DAN's losses.

    Forward (as in the reference): when K > 1 the head features are
    log-softmax scaled across the heads (per channel), then summed over the
    heads and classified by ``Linear`` followed by ``BatchNorm1d``.

    Training adds two losses to cross-entropy: the FCN's
    :class:`AffinityLoss` on the pooled backbone feature (its class centres
    live here, as ``affinity_loss.centers``) and the AFN's
    :class:`PartitionLoss` on the scaled head features.

    The Linear and BatchNorm1d keep PyTorch's default init, as in the
    reference; that is why ``init_cfg`` defaults to None here, unlike
    mmpretrain's ``LinearClsHead``.

    Args:
        num_classes (int): Number of expression classes.
        in_channels (int): Channels of each head feature. Defaults to 512.
        loss (dict): Classification loss. Defaults to cross-entropy.
        affinity_loss (dict): Affinity loss config; ``num_classes`` and
            ``feat_dim`` are filled in from this head. Defaults to
            ``dict(type='AffinityLoss', loss_weight=1.0)``.
        partition_loss (dict): Partition loss config. Defaults to
            ``dict(type='PartitionLoss', loss_weight=1.0)``.
        topk (int | tuple[int]): Top-k accuracy. Defaults to ``(1, )``.
        cal_acc (bool): Log training accuracy. Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(
            self,
            num_classes: int,
            in_channels: int = 512,
            loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
            affinity_loss: dict = dict(type='AffinityLoss', loss_weight=1.0),
            partition_loss: dict = dict(type='PartitionLoss', loss_weight=1.0),
            topk=(1, ),
            cal_acc: bool = False,
            init_cfg: Optional[dict] = None):
        super().__init__(
            loss=loss, topk=topk, cal_acc=cal_acc, init_cfg=init_cfg)
        if num_classes <= 0:
            raise ConfigError(
                f'model.head.num_classes={num_classes} must be positive')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.fc = nn.Linear(in_channels, num_classes)
        self.bn = nn.BatchNorm1d(num_classes)
        self.affinity_loss = MODELS.build(
            dict(affinity_loss, num_classes=num_classes, feat_dim=in_channels))
        self.partition_loss = MODELS.build(partition_loss)

    @staticmethod
    def scale_heads(heads: torch.Tensor) -> torch.Tensor:
        """Log-softmax across the heads when there is more than one.

        Args:
            heads (Tensor): Head features ``(N, K, C)``.

        Returns:
            Tensor: Scaled head features ``(N, K, C)``.
        """
        return F.log_softmax(heads, dim=1) if heads.size(1) > 1 else heads

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Fused feature: the scaled head features summed over heads.

        Args:
            feats (tuple[Tensor]): ``(pooled, heads)`` from the neck; only
                ``heads`` ``(N, K, C)`` is used.

        Returns:
            Tensor: ``(N, C)``.
        """
        return self.scale_heads(feats[-1]).sum(dim=1)

    def classify(self, fused: torch.Tensor) -> torch.Tensor:
        """(N, C) fused feature -> (N, num_classes) logits."""
        return self.bn(self.fc(fused))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Logits ``(N, num_classes)`` from the neck's ``(pooled, heads)``."""
        return self.classify(self.pre_logits(feats))

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """Cross-entropy, affinity and partition losses.

        Args:
            feats (tuple[Tensor]): ``(pooled (N, C), heads (N, K, C))``.
            data_samples (list[DataSample]): Samples with ``gt_label``.

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``loss_af`` and ``loss_pt``
            (plus ``accuracy_top-k`` when ``cal_acc``).
        """
        pooled, heads = feats[0], self.scale_heads(feats[-1])
        cls_score = self.classify(heads.sum(dim=1))
        losses = self._get_loss(cls_score, data_samples, **kwargs)
        losses['loss_cls'] = losses.pop('loss')
        labels = torch.cat([sample.gt_label for sample in data_samples])
        losses['loss_af'] = self.affinity_loss(pooled,
                                               labels.to(pooled.device))
        losses['loss_pt'] = self.partition_loss(heads)
        return losses

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # mmengine loads non-strictly and would only warn about a size
        # mismatch, leaving a half-loaded head: refuse it clearly instead.
        weight = state_dict.get(prefix + 'fc.weight')
        if weight is not None and tuple(
                weight.shape) != (self.num_classes, self.in_channels):
            raise CheckpointMismatchError(
                f'The checkpoint\'s "{prefix}fc.weight" has shape '
                f'{tuple(weight.shape)} (num_classes={weight.shape[0]}, '
                f'in_channels={weight.shape[1]}) but the config builds '
                f'num_classes={self.num_classes}, in_channels='
                f'{self.in_channels}; fix model.head in the config.')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
