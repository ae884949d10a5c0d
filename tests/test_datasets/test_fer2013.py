import numpy as np
import pytest
from fer_fixtures import fer_row_pixels, make_fer2013, make_ferplus

from dan_mm.datasets import FER2013, FERPlus
from dan_mm.datasets.categories import FER2013_CATEGORIES, FERPLUS_CATEGORIES
from dan_mm.datasets.ferplus import plurality_vote
from dan_mm.utils.errors import DataError


def test_fer2013_splits_labels_and_images(tmp_path):
    rows = [(3, 'Training'), (0, 'PublicTest'), (6, 'Training'),
            (5, 'PrivateTest')]
    make_fer2013(str(tmp_path), rows)
    train = FER2013(str(tmp_path), split='train')
    assert train.get_gt_labels().tolist() == [3, 6]
    assert FER2013(str(tmp_path), split='val').get_gt_labels().tolist() == [0]
    test = FER2013(str(tmp_path), split='test')
    assert test.get_gt_labels().tolist() == [5] and test.test_mode
    assert train.metainfo['classes'] == FER2013_CATEGORIES
    info = train.get_data_info(1)
    img = info['img']
    # decoded in memory: 48x48, gray repeated on 3 channels, row-major
    assert img.shape == (48, 48, 3) and img.dtype == np.uint8
    assert 'img_path' not in info
    expected = np.array(fer_row_pixels(6, 2).split(), dtype=np.uint8)
    assert np.array_equal(img[..., 0].reshape(-1), expected)
    assert np.array_equal(img[..., 0], img[..., 2])
    assert info['ori_shape'] == (48, 48)


def test_fer2013_runs_a_pipeline_without_loading(tmp_path):
    make_fer2013(str(tmp_path), [(2, 'Training')])
    ds = FER2013(
        str(tmp_path),
        pipeline=[
            dict(type='Resize', scale=(64, 64)),
            dict(type='PackInputs')
        ])
    out = ds[0]
    assert tuple(out['inputs'].shape) == (3, 64, 64)
    assert out['data_samples'].gt_label.item() == 2


@pytest.mark.parametrize('row, message', [
    ('9,{p},Training', r'fer2013.csv:3: emotion "9" is not a label 0..6'),
    ('1,1 2 3,Training', r'fer2013.csv:3: expected 48\*48=2304 pixels, got 3'),
    ('1,{p},Train', r'fer2013.csv:3: Usage "Train" is not one of'),
])
def test_fer2013_bad_rows_name_file_and_line(tmp_path, row, message):
    path = make_fer2013(str(tmp_path), [(1, 'Training')])
    with open(path, 'a') as f:
        f.write(row.format(p=fer_row_pixels(1, 0)) + '\n')
    with pytest.raises(DataError, match=message):
        FER2013(str(tmp_path))


def test_ferplus_plurality_vote_rule():

    def votes(**kw):
        base = {
            c: 0
            for c in ('neutral', 'happiness', 'surprise', 'sadness', 'anger',
                      'disgust', 'fear', 'contempt', 'unknown', 'nf')
        }
        base.update(kw)
        return base

    # columns are mapped by name onto FER2013's order + Contempt
    assert plurality_vote(votes(happiness=6, neutral=4)) == 3
    assert plurality_vote(votes(neutral=7, sadness=3)) == 6
    assert plurality_vote(votes(anger=4, disgust=3, fear=3)) == 0
    assert plurality_vote(votes(contempt=5, neutral=4, nf=1)) == 7
    assert plurality_vote(votes(surprise=2, fear=1)) == 5
    # dropped: unknown / NF win, a tie at the top, no votes
    assert plurality_vote(votes(unknown=6, happiness=4)) == -1
    assert plurality_vote(votes(nf=10)) == -1
    assert plurality_vote(votes(happiness=5, neutral=5)) == -1
    assert plurality_vote(votes(happiness=4, unknown=4, sadness=2)) == -1
    assert plurality_vote(votes()) == -1


def test_ferplus_dataset(tmp_path):
    make_ferplus(
        str(tmp_path),
        [
            ('Training', {
                'happiness': 9,
                'neutral': 1
            }),  # Happy
            ('Training', {
                'unknown': 6,
                'anger': 4
            }),  # dropped
            ('Training', None),  # no image name
            ('PublicTest', {
                'contempt': 6,
                'neutral': 4
            }),  # Contempt
            ('Training', {
                'sadness': 5,
                'fear': 5
            }),  # tie, dropped
            ('Training', {
                'disgust': 7,
                'anger': 3
            }),  # Disgust
            ('PrivateTest', {
                'neutral': 10
            }),  # Neutral
        ])
    train = FERPlus(str(tmp_path), split='train')
    assert train.label_mode == 'majority'  # Microsoft's rule by default
    assert train.metainfo['classes'] == FERPLUS_CATEGORIES
    assert len(FERPLUS_CATEGORIES) == 8
    assert train.get_gt_labels().tolist() == [3, 1]
    # 5:5 has no majority (more than half); unknown has 6 of 10
    assert train.dropped == {
        'unknown wins': 1,
        'no image name': 1,
        'no clear label': 1
    }
    # the image is the pixel row of the same line of fer2013.csv (row 5)
    expected = np.array(fer_row_pixels(0, 5).split(), dtype=np.uint8)
    assert np.array_equal(
        train.get_data_info(1)['img'][..., 1].reshape(-1), expected)
    assert FERPlus(str(tmp_path), split='val').get_gt_labels().tolist() == [7]
    assert FERPlus(str(tmp_path), split='test').get_gt_labels().tolist() == [6]
    plurality = FERPlus(str(tmp_path), label_mode='plurality')
    assert plurality.get_gt_labels().tolist() == [3, 1]
    assert plurality.dropped == {
        'unknown wins': 1,
        'no image name': 1,
        'tie': 1
    }


def test_ferplus_misaligned_files_are_refused(tmp_path):
    make_ferplus(
        str(tmp_path), [('Training', {
            'neutral': 3
        }), ('PublicTest', {
            'neutral': 3
        })])
    make_fer2013(str(tmp_path), [(0, 'Training')])  # one row only
    with pytest.raises(DataError, match='has 2 rows but .*fer2013.csv has 1'):
        FERPlus(str(tmp_path))
    make_fer2013(str(tmp_path), [(0, 'Training'), (0, 'PrivateTest')])
    with pytest.raises(
            DataError, match=r'fer2013new.csv:3: Usage "PublicTest" differs'):
        FERPlus(str(tmp_path))


def test_ferplus_bad_vote_names_line(tmp_path):
    make_ferplus(str(tmp_path), [('Training', {'neutral': 3})])
    path = tmp_path / 'fer2013new.csv'
    path.write_text(path.read_text().replace(',3,', ',x,'))
    with pytest.raises(
            DataError, match=r'fer2013new.csv:2: vote count '
            r'neutral="x"'):
        FERPlus(str(tmp_path))
