"""ClassBalancedSampler: the reference's AffectNet sampling, seeded and
DDP-aware."""
import numpy as np
import pytest
from fer_fixtures import LabelsOnly
from fer_test_utils import sampler_on_rank
from mmengine.runner import Runner

from dan_mm.datasets import ClassBalancedSampler


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


def test_ddp_ranks_take_interleaved_shards_of_one_draw():
    dataset = LabelsOnly((20, 3, 2))  # 25: uneven shards
    single = list(sampler_on_rank(dataset, 0, 1, seed=7, num_samples=26))
    shards = [
        list(sampler_on_rank(dataset, rank, 2, seed=7)) for rank in (0, 1)
    ]
    assert len(shards[0]) == len(shards[1]) == 13  # ceil(25 / 2)
    assert shards[0] != shards[1]
    # the ranks interleave one common draw: together they are that draw
    assert shards[0] == single[0::2] and shards[1] == single[1::2]
    # reproducible, and a new draw each epoch
    assert shards[0] == list(sampler_on_rank(dataset, 0, 2, seed=7))
    sampler = sampler_on_rank(dataset, 0, 2, seed=7)
    sampler.set_epoch(1)
    assert list(sampler) != shards[0]
    # class-balanced: the rare classes are drawn far above their 5/25 share
    many = list(sampler_on_rank(dataset, 0, 1, seed=0, num_samples=3000))
    counts = np.bincount(dataset.labels[many], minlength=3)
    assert (np.abs(counts / 3000 - 1 / 3) < 0.05).all(), counts


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
