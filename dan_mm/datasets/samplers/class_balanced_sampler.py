"""Class-balanced sampling with replacement (the reference, on AffectNet)."""
import math
from typing import Iterator, Optional

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmpretrain.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(Sampler):
    """Draw samples with replacement, each weighted by 1 / its class count.

    The reference trains AffectNet with ``ImbalancedDatasetSampler``: one
    epoch draws ``len(dataset)`` indices with replacement, so every class is
    seen equally often on average. Here the draw is seeded (the runner's
    seed, shared by all ranks, plus the epoch) and, under DDP, every rank
    takes its own interleaved shard of one common draw.

    Args:
        dataset (Dataset): A data set with ``get_gt_labels()``.
        num_samples (int, optional): Indices drawn per epoch over all ranks.
            Defaults to ``len(dataset)``.
        seed (int, optional): Random seed; None syncs a random one across
            ranks. Defaults to None.
    """

    def __init__(self,
                 dataset,
                 num_samples: Optional[int] = None,
                 seed: Optional[int] = None):
        rank, world_size = get_dist_info()
        self.rank, self.world_size = rank, world_size
        self.dataset = dataset
        labels = np.asarray(dataset.get_gt_labels(), dtype=np.int64)
        counts = np.bincount(labels)
        self.weights = torch.as_tensor(
            1.0 / counts[labels], dtype=torch.double)
        total = len(dataset) if num_samples is None else num_samples
        self.num_samples = math.ceil(total / world_size)  # per rank
        self.total_size = self.num_samples * world_size
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        indices = torch.multinomial(
            self.weights,
            self.total_size,
            replacement=True,
            generator=generator)
        return iter(indices[self.rank::self.world_size].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Called by mmengine's DistSamplerSeedHook at each epoch."""
        self.epoch = epoch
