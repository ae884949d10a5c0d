from .affinity_loss import AffinityLoss
from .multi_target_loss import MultiTargetLoss
from .partition_loss import PartitionLoss

__all__ = ['AffinityLoss', 'MultiTargetLoss', 'PartitionLoss']
