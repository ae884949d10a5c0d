"""mmpretrain's name lookup of pipeline steps finds LoadFaceImage as the
LoadImageFromFile it subclasses (dan_mm.compat.match_transform_subclasses),
and leaves every other lookup as it was."""
from mmcv.transforms import LoadImageFromFile
from mmpretrain.datasets import get_transform_idx, remove_transform

import dan_mm  # noqa: F401  (dan_mm.compat installs the lookup)
from dan_mm.datasets.transforms import LoadFaceImage

PIPELINE = [
    dict(type='LoadFaceImage'),
    dict(type='Resize', scale=(8, 8)),
    dict(type='PackInputs')
]


def test_a_subclass_counts_as_the_named_transform():
    assert get_transform_idx(PIPELINE, 'LoadImageFromFile') == 0
    assert get_transform_idx([dict(type=LoadFaceImage)],
                             'LoadImageFromFile') == 0
    assert get_transform_idx([LoadFaceImage()], 'LoadImageFromFile') == 0
    assert [
        t['type'] for t in remove_transform(PIPELINE, 'LoadImageFromFile')
    ] == ['Resize', 'PackInputs']


def test_other_lookups_are_unchanged():
    # the exact name still wins, and a base class is not its subclass
    pipeline = [dict(type='LoadFaceImage'), dict(type='LoadImageFromFile')]
    assert get_transform_idx(pipeline, 'LoadImageFromFile') == 1
    assert get_transform_idx([dict(type='LoadImageFromFile')],
                             'LoadFaceImage') == -1
    assert get_transform_idx([LoadImageFromFile()], 'LoadFaceImage') == -1
    assert get_transform_idx(PIPELINE, 'Resize') == 1
    assert get_transform_idx(PIPELINE, 'NoSuchTransform') == -1
