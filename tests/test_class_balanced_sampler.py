import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from dan_mm.datasets import ClassBalancedSampler
from dan_mm.datasets.samplers import class_balanced_sampler as cbs_module


class LabelsOnly(torch.utils.data.Dataset):
    """80 samples of class 0, 15 of class 1, 5 of class 2."""

    def __init__(self, counts=(80, 15, 5)):
        self.labels = np.repeat(np.arange(len(counts)), counts)

    def get_gt_labels(self):
        return self.labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return int(self.labels[idx])


def test_classes_are_drawn_equally_often_with_replacement():
    ds = LabelsOnly()
    sampler = ClassBalancedSampler(ds, num_samples=30000, seed=0)
    idx = np.fromiter(iter(sampler), dtype=np.int64)
    assert len(idx) == len(sampler) == 30000
    freq = np.bincount(ds.labels[idx], minlength=3) / len(idx)
    # 1/3 each; the binomial std is 0.0027, so 0.02 is > 7 sigma
    np.testing.assert_allclose(freq, 1 / 3, atol=0.02)
    # within a class, samples are uniform: each of class 2's five ~ 1/15
    per_sample = np.bincount(idx, minlength=100)[95:] / len(idx)
    np.testing.assert_allclose(per_sample, 1 / 15, atol=0.012)
    # and a class-0 sample is 16x rarer than a class-2 one
    assert per_sample.mean() / (np.bincount(idx, minlength=100)[:80].mean() /
                                len(idx)) == pytest.approx(
                                    16, rel=0.15)


def test_default_length_replacement_and_seeding():
    ds = LabelsOnly()
    a = list(ClassBalancedSampler(ds, seed=5))
    assert len(a) == len(ds)
    # with replacement: 5 class-2 samples drawn ~33 times
    assert len(set(a)) < len(a)
    assert a == list(ClassBalancedSampler(ds, seed=5))
    assert a != list(ClassBalancedSampler(ds, seed=6))
    sampler = ClassBalancedSampler(ds, seed=5)
    sampler.set_epoch(1)
    b = list(sampler)
    assert b != a
    sampler.set_epoch(0)
    assert list(sampler) == a


def test_ddp_ranks_share_one_draw(monkeypatch):
    ds = LabelsOnly()
    single = list(ClassBalancedSampler(ds, seed=3))
    shards = []
    for rank in range(2):
        monkeypatch.setattr(cbs_module, 'get_dist_info', lambda r=rank: (r, 2))
        sampler = ClassBalancedSampler(ds, seed=3)
        assert len(sampler) == 50
        shards.append(list(sampler))
    interleaved = [i for pair in zip(*shards) for i in pair]
    assert interleaved == single


def test_runner_hands_its_seed_to_the_sampler():
    loader = Runner.build_dataloader(
        dict(
            batch_size=4,
            num_workers=0,
            dataset=LabelsOnly(),
            sampler=dict(type='ClassBalancedSampler')),
        seed=11)
    assert isinstance(loader.sampler, ClassBalancedSampler)
    assert loader.sampler.seed == 11
    assert sum(len(b) for b in loader) == 100
