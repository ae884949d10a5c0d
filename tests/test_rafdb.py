import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from dan_mm.datasets import (EXPRESSION_CUES, RAFDB, RAFDB_CATEGORIES,
                             generate_synthfer)


def make_rafdb(root, lines, images=None):
    """Write a RAF-DB tree: the label file and (by default) every image."""
    os.makedirs(osp.join(root, 'EmoLabel'), exist_ok=True)
    os.makedirs(osp.join(root, 'Image', 'aligned'), exist_ok=True)
    with open(osp.join(root, 'EmoLabel', 'list_patition_label.txt'), 'w') as f:
        f.write(''.join(line + '\n' for line in lines))
    if images is None:
        images = [line.split()[0] for line in lines if line.strip()]
    for name in images:
        stem = osp.splitext(name)[0]
        Image.new('RGB', (8, 8)).save(
            osp.join(root, 'Image', 'aligned', f'{stem}_aligned.jpg'))
    return str(root)


def test_parse_splits_labels_and_paths(tmp_path):
    root = make_rafdb(tmp_path, [
        'train_00001.jpg 5', 'train_00002.jpg 1', 'test_0001.jpg 7', '',
        'test_0002.jpg 3'
    ])
    train = RAFDB(root, split='train')
    test = RAFDB(root, split='test')
    assert len(train) == 2 and len(test) == 2
    assert train.get_gt_labels().tolist() == [4, 0]  # file labels - 1
    assert test.get_gt_labels().tolist() == [6, 2]
    assert train.CLASSES == RAFDB_CATEGORIES
    assert train.CLASSES[4] == 'Sadness' and train.CLASSES[0] == 'Surprise'
    info = train.get_data_info(0)
    assert info['img_path'] == osp.join(root, 'Image', 'aligned',
                                        'train_00001_aligned.jpg')
    assert test.test_mode and not train.test_mode


@pytest.mark.parametrize('line,message', [
    ('train_00002.jpg', 'expected "<image name> <label 1-7>"'),
    ('train_00002.jpg five', 'expected'),
    ('train_00002.jpg 0', 'label 0 of train_00002.jpg is outside 1..7'),
    ('train_00002.jpg 8', 'outside 1..7'),
    ('train_00001.jpg 2', 'listed again (first on line 1)'),
])
def test_bad_label_lines_name_file_and_line(tmp_path, line, message):
    root = make_rafdb(
        tmp_path, ['train_00001.jpg 1', line], images=['train_00001.jpg'])
    with pytest.raises(ValueError) as err:
        RAFDB(root, split='train')
    assert 'list_patition_label.txt:2' in str(err.value)
    assert message in str(err.value)


def test_missing_label_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='list_patition_label.txt'):
        RAFDB(str(tmp_path), split='train')


def test_missing_image_is_named_or_skipped(tmp_path):
    root = make_rafdb(
        tmp_path, ['train_00001.jpg 1', 'train_00002.jpg 2'],
        images=['train_00001.jpg'])
    with pytest.raises(FileNotFoundError) as err:
        RAFDB(root, split='train')
    assert 'train_00002_aligned.jpg' in str(err.value)
    assert ':2' in str(err.value)
    assert len(RAFDB(root, split='train', skip_missing=True)) == 1


def test_bad_split(tmp_path):
    with pytest.raises(ValueError, match="'train', 'test'"):
        RAFDB(str(tmp_path), split='val')


def test_synthfer_is_read_by_rafdb_and_balanced(synthfer_root):
    train = RAFDB(synthfer_root, split='train')
    test = RAFDB(synthfer_root, split='test')
    assert len(train) == 28 and len(test) == 14
    assert np.bincount(train.get_gt_labels()).tolist() == [4] * 7
    img = Image.open(train.get_data_info(0)['img_path'])
    assert img.size == (64, 64) and img.mode == 'RGB'


def test_synthfer_is_deterministic_by_seed(tmp_path):
    a, b, c = (str(tmp_path / n) for n in 'abc')
    for root, seed in ((a, 3), (b, 3), (c, 4)):
        generate_synthfer(
            root, num_train=7, num_test=0, seed=seed, size=32, progress=False)

    def read(root):
        path = osp.join(root, 'Image', 'aligned', 'train_00005_aligned.jpg')
        return open(path, 'rb').read()

    assert read(a) == read(b)
    assert read(a) != read(c)


def test_synthfer_classes_need_several_regions():
    cues = list(EXPRESSION_CUES.values())
    assert len(set(cues)) == len(cues) == 7  # every class is distinct
    for region in range(3):
        # no single region tells all classes apart
        assert len({c[region] for c in cues}) < len(cues)
    # every expression is a combination of cues in at least two regions
    neutral = EXPRESSION_CUES['Neutral']
    for name, c in EXPRESSION_CUES.items():
        if name != 'Neutral':
            assert sum(a != b for a, b in zip(c, neutral)) >= 2, name
    # as surprise and fear do, some pairs differ in one region only

    def diff(x, y):
        return sum(a != b
                   for a, b in zip(EXPRESSION_CUES[x], EXPRESSION_CUES[y]))

    assert diff('Surprise', 'Fear') == 1
    assert diff('Anger', 'Disgust') == 1
