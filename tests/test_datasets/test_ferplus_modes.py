"""FERPlus label modes: hand-counted votes, and parity with Microsoft's code.

Class order (FERPLUS_CATEGORIES): 0 Angry, 1 Disgust, 2 Fear, 3 Happy,
4 Sad, 5 Surprise, 6 Neutral, 7 Contempt.
"""
import numpy as np
import pytest
import torch
from fer_fixtures import make_ferplus
from reference_ferplus import Reader

from dan_mm.datasets import FERPlus
from dan_mm.datasets.ferplus import CSV_VOTE_COLUMNS, ferplus_distribution
from dan_mm.utils.errors import ConfigError

# Rows of fer2013new.csv votes. A and B are the first two rows of the real
# file. Each mode's expected outcome below is counted by hand:
# single votes are removed first (not in 'plurality').
ROWS = {
    # neutral 4, anger 3, disgust 2 after dropping sadness's single vote
    'A': dict(neutral=4, sadness=1, anger=3, disgust=2),
    'B': dict(neutral=6, surprise=1, sadness=1, unknown=2),
    'C': dict(happiness=5, surprise=5),
    'D': dict(unknown=4, fear=3, sadness=3),
    'E': dict(anger=5, disgust=3, contempt=2),
    'F': dict(happiness=3, sadness=3, nf=3, neutral=1),
    'G': dict(fear=8, surprise=2),
    'H': dict(contempt=2, neutral=1, happiness=1),
}

ANGRY, DISGUST, FEAR, HAPPY, SAD, SURPRISE, NEUTRAL, CONTEMPT = range(8)


def dist(**probs):
    out = np.zeros(8)
    for name, p in probs.items():
        out[globals()[name.upper()]] = p
    return out


# mode -> row -> expected 8-way distribution, or the reason it is dropped
EXPECTED = {
    # more than half of the remaining votes
    'majority': {
        'A': 'no clear label',  # 4 of 9
        'B': dist(neutral=1),  # 6 of 8 (unknown's 2 count in the total)
        'C': 'no clear label',  # 5 of 10 is not more than half
        'D': 'no clear label',
        'E': 'no clear label',  # 5 of 10
        'F': 'no clear label',
        'G': dist(fear=1),
        'H': dist(contempt=1),  # 2 of the 2 left
    },
    # top emotions (ties together) until 75% of the votes, at most 3
    'crossentropy': {
        'A': dist(neutral=4 / 7, angry=3 / 7),  # 4+3 = 7 >= 6.75
        'B': dist(neutral=1),  # 6 >= 0.75 * 8
        'C': dist(happy=.5, surprise=.5),  # the tie is taken together
        'D': 'no clear label',  # unknown comes first: only 4 of 10
        'E': dist(angry=5 / 8, disgust=3 / 8),
        # NF ties with two emotions: it is dropped from the 3-way tie
        'F': dist(happy=.5, sad=.5),
        'G': dist(fear=1),
        'H': dist(contempt=1),
    },
    # every emotion with at least 30% of the votes
    'multi_target': {
        'A': dist(neutral=4 / 7, angry=3 / 7),  # disgust 2 < 2.7
        'B': dist(neutral=1),  # unknown 2 < 2.4
        'C': dist(happy=.5, surprise=.5),
        'D': 'unknown wins',  # fear 3, sad 3, unknown 4 all pass
        'E': dist(angry=5 / 8, disgust=3 / 8),  # contempt 2 < 3
        'F': dist(happy=.5, sad=.5),  # NF passes, then is removed
        'G': dist(fear=1),
        'H': dist(contempt=1),
    },
}
EXPECTED['probability'] = EXPECTED['crossentropy']

# 'plurality' (the old dan_mm rule): every vote counts, a unique top wins
PLURALITY = {
    'A': NEUTRAL,
    'B': NEUTRAL,
    'C': 'tie',
    'D': 'unknown wins',
    'E': ANGRY,
    'F': 'tie',
    'G': FEAR,
    'H': CONTEMPT,
}


def csv_votes(row):
    return [row.get(c, row.get(c.upper(), 0)) for c in CSV_VOTE_COLUMNS]


@pytest.mark.parametrize('mode', sorted(EXPECTED))
def test_distribution_per_mode_hand_counted(mode):
    for name, expected in EXPECTED[mode].items():
        got, reason = ferplus_distribution(csv_votes(ROWS[name]), mode)
        if isinstance(expected, str):
            assert got is None and reason == expected, (name, got, reason)
        else:
            assert reason == '', (name, reason)
            np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=name)


def make_rows(tmp_path):
    """Every row in the Training split, plus one PrivateTest row."""
    make_ferplus(
        str(tmp_path), [('Training', {
            k.replace('nf', 'NF'): v
            for k, v in ROWS[name].items()
        }) for name in ROWS] + [('PrivateTest', dict(happiness=9))])
    return list(ROWS)


@pytest.mark.parametrize(
    'mode', ['majority', 'plurality', 'crossentropy', 'multi_target'])
def test_dataset_targets_per_mode(tmp_path, mode):
    names = make_rows(tmp_path)
    ds = FERPlus(str(tmp_path), label_mode=mode)
    expected = PLURALITY if mode == 'plurality' else EXPECTED[mode]
    kept = [n for n in names if not isinstance(expected[n], str)]
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert len(infos) == len(kept)
    dropped = {}
    for name in names:
        if isinstance(expected[name], str):
            dropped[expected[name]] = dropped.get(expected[name], 0) + 1
    assert ds.dropped == dropped
    for name, info in zip(kept, infos):
        if mode == 'plurality':
            assert info['gt_label'] == expected[name] and 'gt_score' not in \
                info
            continue
        target = expected[name]
        # gt_label: the most likely class, the first of equal ones
        assert info['gt_label'] == int(np.argmax(target)), name
        if mode == 'majority':
            assert 'gt_score' not in info
        elif mode == 'crossentropy':
            np.testing.assert_allclose(info['gt_score'], target, atol=1e-6)
            assert info['gt_score'].dtype == np.float32
        else:  # multi_target: every class with votes is right, eps 0.001
            hits = np.where(target > 0, 1.0, 0.001)
            np.testing.assert_allclose(info['gt_score'], hits, atol=1e-6)


def test_probability_mode_draws_labels_from_the_distribution(tmp_path):
    make_rows(tmp_path)
    ds = FERPlus(str(tmp_path), label_mode='probability', pipeline=[])
    # row A (first kept row): Neutral 4/7, Angry 3/7; the stored label
    # (sampler, metrics) is the most likely class, whatever was drawn
    np.random.seed(0)
    draws = [ds[0]['gt_label'] for _ in range(2000)]
    assert [ds.get_gt_labels()[0] for _ in range(20)] == [NEUTRAL] * 20
    counts = np.bincount(draws, minlength=8)
    assert set(np.nonzero(counts)[0]) == {ANGRY, NEUTRAL}
    assert abs(counts[ANGRY] / 2000 - 3 / 7) < 0.04
    assert 'label_distribution' not in ds[0]
    # test mode never samples: evaluation needs fixed labels
    test = FERPlus(
        str(tmp_path), label_mode='probability', test_mode=True, pipeline=[])
    assert {test[0]['gt_label'] for _ in range(50)} == {NEUTRAL}


@pytest.mark.parametrize(
    'mode', ['majority', 'probability', 'crossentropy', 'multi_target'])
def test_matches_microsofts_code_on_random_votes(mode):
    """10 annotators' votes at random, and real-looking skewed ones."""
    rng = np.random.default_rng(0)
    reader = Reader(mode)
    order = [
        CSV_VOTE_COLUMNS.index(c)
        for c in ('anger', 'disgust', 'fear', 'happiness', 'sadness',
                  'surprise', 'neutral', 'contempt')
    ]
    kept = 0
    for trial in range(3000):
        p = rng.dirichlet(np.full(10, 0.3 if trial % 2 else 1.0))
        votes = np.bincount(rng.choice(10, size=10, p=p), minlength=10)
        ours, _ = ferplus_distribution(votes.tolist(), mode)
        theirs = reader.load_row([float(v) for v in votes], mode)
        if theirs is None:
            assert ours is None, votes
            continue
        kept += 1
        np.testing.assert_allclose(
            ours, np.asarray(theirs)[order], atol=1e-12, err_msg=str(votes))
        if mode == 'multi_target':
            np.testing.assert_allclose(
                np.where(ours > 0, 1.0, 0.001),
                reader._process_target(np.asarray(theirs))[order],
                atol=1e-12)
    assert kept > 1000  # the comparison covered many kept rows


def test_soft_target_trains_through_gt_score(tmp_path):
    """crossentropy mode: PackInputs carries gt_score, the head's soft
    cross-entropy uses it and the affinity loss uses gt_label."""
    from fer_test_utils import REPO
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    make_rows(tmp_path)
    ds = FERPlus(
        str(tmp_path),
        label_mode='crossentropy',
        pipeline=[
            dict(type='Resize', scale=(32, 32)),
            dict(type='PackInputs')
        ])
    batch = [ds[i] for i in range(4)]
    cfg = Config.fromfile(f'{REPO}/configs/_base_/models/dan_r18.py')
    cfg.model.head.num_classes = 8
    cfg.model.head.loss = dict(type='CrossEntropyLoss', use_soft=True)
    cfg.model.data_preprocessor = dict(type='ClsDataPreprocessor')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(
        dict(
            inputs=[b['inputs'] for b in batch],
            data_samples=[b['data_samples'] for b in batch]), True)
    losses = model(**data, mode='loss')
    scores = torch.stack([s.gt_score for s in data['data_samples']])
    assert scores.shape == (4, 8)
    # soft cross-entropy against the stored distributions, by hand (the
    # same training-mode forward: BatchNorm uses this batch's statistics)
    feats = model.extract_feat(data['inputs'])
    logits = model.head.classify(model.head.scale_heads(feats[-1]).sum(dim=1))
    expected = -(scores * logits.log_softmax(dim=1)).sum(dim=1).mean()
    torch.testing.assert_close(losses['loss_cls'], expected)
    assert torch.isfinite(losses['loss_af'])


def test_unknown_label_mode_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match='label_mode must be one of'):
        FERPlus(str(tmp_path), label_mode='vote')


def test_microsofts_per_split_label_csv(tmp_path):
    """FER2013Train/label.csv: votes by image name (fer<row>.png)."""
    from fer_fixtures import write_ferplus_label_csv

    from dan_mm.utils.errors import DataError
    make_rows(tmp_path)  # rows 0..7 Training, row 8 PrivateTest
    write_ferplus_label_csv(
        str(tmp_path / 'FER2013Train' / 'label.csv'),
        [(6, dict(happiness=9)), (0, dict(anger=2, neutral=8)),
         (3, dict(happiness=5, sadness=5))])
    ds = FERPlus(str(tmp_path), ann_file='FER2013Train/label.csv')
    assert ds.get_gt_labels().tolist() == [HAPPY, NEUTRAL]
    assert ds.dropped == {'no clear label': 1}
    # the image is row 6 of fer2013.csv (fixture faces are drawn per row)
    from fer_fixtures import fer_row_pixels
    assert ds.get_data_info(0)['img'][..., 0].reshape(-1).tolist() == [
        int(v) for v in fer_row_pixels(0, 6).split()
    ]
    write_ferplus_label_csv(
        str(tmp_path / 'FER2013Test' / 'label.csv'), [(8, dict(fear=9)),
                                                      (2, dict(fear=9))])
    with pytest.raises(
            DataError,
            match=r'label.csv:2: fer0000002.png is a Training image in '
            r'\S+fer2013.csv but split="test" reads PrivateTest'):
        FERPlus(str(tmp_path), split='test', ann_file='FER2013Test/label.csv')
