from .affinity_loss import AffinityLoss
from .partition_loss import PartitionLoss

__all__ = ['AffinityLoss', 'PartitionLoss']
