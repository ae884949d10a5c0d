"""Cross-dataset evaluation: classes matched by name, metrics over them."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from fer_test_utils import REPO
from mmengine.config import Config
from mmpretrain.structures import DataSample
from tool_runner import run_tool

from dan_mm.datasets import RAFDB, AffectNet, FERPlus, LoadFaceImage
from dan_mm.datasets.categories import (AFFECTNET_CATEGORIES,
                                        FERPLUS_CATEGORIES, RAFDB_CATEGORIES,
                                        canonical_expression,
                                        match_classes_by_name)
from dan_mm.evaluation import FERMetric, cross_dataset_config, model_classes
from dan_mm.synthfer import export_synthfer
from dan_mm.utils.errors import ConfigError


def test_match_classes_by_name():
    # RAF-DB model on FERPlus: every RAF-DB class has a FERPlus name
    match = match_classes_by_name(RAFDB_CATEGORIES, FERPLUS_CATEGORIES)
    assert [(FERPLUS_CATEGORIES[d], RAFDB_CATEGORIES[m])
            for d, m in match.pairs] == [('Angry', 'Anger'),
                                         ('Disgust', 'Disgust'),
                                         ('Fear', 'Fear'),
                                         ('Happy', 'Happiness'),
                                         ('Sad', 'Sadness'),
                                         ('Surprise', 'Surprise'),
                                         ('Neutral', 'Neutral')]
    assert match.data_left_out == ['Contempt'] and match.model_left_out == []
    # FERPlus model on RAF-DB: its Contempt has no RAF-DB class
    back = match_classes_by_name(FERPLUS_CATEGORIES, RAFDB_CATEGORIES)
    assert back.model_left_out == ['Contempt'] and back.data_left_out == []
    assert len(back.pairs) == 7
    # AffectNet-8, and names matched whatever their case
    affectnet = match_classes_by_name(RAFDB_CATEGORIES, AFFECTNET_CATEGORIES)
    assert dict(affectnet.pairs)[AFFECTNET_CATEGORIES.index('Happy')] == \
        RAFDB_CATEGORIES.index('Happiness')
    assert affectnet.data_left_out == ['Contempt']
    assert match_classes_by_name(['HAPPY', 'other'],
                                 ['happiness', 'Other']).pairs == [(0, 0),
                                                                   (1, 1)]
    with pytest.raises(ConfigError, match='name one expression twice'):
        match_classes_by_name(['Happy', 'Happiness'], RAFDB_CATEGORIES)


def sample(scores, gt):
    s = DataSample().set_gt_label(gt)
    s.set_pred_score(torch.tensor(scores, dtype=torch.float32))
    s.set_pred_label(int(np.argmax(scores)))
    return s.to_dict()


def scores_for(classes, **named):
    out = [0.01] * len(classes)
    for name, value in named.items():
        out[classes.index(name)] = value
    return out


def test_metric_over_matched_classes_hand_counted():
    """A RAF-DB model tested on FERPlus's classes."""
    metric = FERMetric(model_classes=RAFDB_CATEGORIES)
    metric.dataset_meta = dict(classes=FERPLUS_CATEGORIES)
    R, F = RAFDB_CATEGORIES, FERPLUS_CATEGORIES
    metric.process(
        None,
        [
            sample(scores_for(R, Happiness=.9), F.index('Happy')),  # right
            sample(scores_for(R, Anger=.8), F.index('Angry')),  # right
            sample(scores_for(R, Neutral=.7), F.index('Sad')),  # wrong
            sample(scores_for(R, Sadness=.6), F.index('Sad')),  # right
            sample(scores_for(R, Happiness=.9),
                   F.index('Contempt')),  # left out
            sample(scores_for(R, Neutral=.5), F.index('Contempt')),  # left out
        ])
    metrics = metric.evaluate(6)
    assert metrics['fer/matched_classes'] == 7
    assert metrics['fer/left_out_samples'] == 2
    assert metrics['fer/top1'] == pytest.approx(75.0)  # 3 of 4
    # named as the data set names them; Sad: 1 of 2
    assert metrics['fer/recall/Sad'] == pytest.approx(50.0)
    assert metrics['fer/recall/Happy'] == metrics['fer/recall/Angry'] == 100
    assert 'fer/recall/Contempt' not in metrics
    assert metrics['fer/balanced_accuracy'] == pytest.approx(250 / 3)


def test_unmatched_model_class_is_never_predicted():
    """A FERPlus model on RAF-DB: Contempt has no RAF-DB class, so the
    prediction is the best of the seven it shares."""
    metric = FERMetric(model_classes=FERPLUS_CATEGORIES)
    metric.dataset_meta = dict(classes=RAFDB_CATEGORIES)
    F, R = FERPLUS_CATEGORIES, RAFDB_CATEGORIES
    metric.process(None, [
        sample(scores_for(F, Contempt=.9, Surprise=.05), R.index('Surprise')),
        sample(scores_for(F, Contempt=.9, Fear=.05), R.index('Surprise')),
    ])
    metrics = metric.evaluate(2)
    assert metrics['fer/left_out_samples'] == 0
    assert metrics['fer/top1'] == pytest.approx(50.0)
    assert metrics['fer/recall/Surprise'] == pytest.approx(50.0)


def test_metric_refuses_what_cannot_be_matched():
    metric = FERMetric(model_classes=['cat', 'dog'])
    metric.dataset_meta = dict(classes=RAFDB_CATEGORIES)
    metric.process(None, [sample([.5, .5], 0)])
    with pytest.raises(ConfigError, match='no class of the model'):
        metric.evaluate(1)


def test_cross_dataset_config_keeps_the_models_pipeline(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'dan_r18_synthfer.py'))
    data = Config.fromfile(osp.join(REPO, 'configs', 'dan_r18_ferplus.py'))
    classes = model_classes(cfg)
    assert classes == RAFDB_CATEGORIES
    pipeline = cfg.test_dataloader.dataset.pipeline
    val = cfg.val_dataloader.to_dict()
    cross_dataset_config(cfg, data, classes)
    dataset = cfg.test_dataloader.dataset
    assert dataset.type == 'FERPlus' and dataset.split == 'test'
    assert dataset.data_root == data.test_dataloader.dataset.data_root
    assert dataset.pipeline == pipeline  # 80x80, as the model was trained
    assert cfg.test_evaluator == dict(
        type='FERMetric', model_classes=list(RAFDB_CATEGORIES))
    assert cfg.val_dataloader.to_dict() == val  # validation is untouched
    # a CustomDataset without classes: the checkpoint's meta names them
    cfg.test_dataloader.dataset = dict(
        type='CustomDataset', data_root=str(tmp_path), pipeline=[])
    with pytest.raises(ConfigError, match='give its test data set classes'):
        model_classes(cfg)
    torch.save(
        dict(
            state_dict={},
            meta=dict(dataset_meta=dict(classes=list(RAFDB_CATEGORIES)))),
        tmp_path / 'ckpt.pth')
    assert model_classes(cfg, str(tmp_path / 'ckpt.pth')) == RAFDB_CATEGORIES


def test_export_synthfer_to_ferplus_and_affectnet(synthfer_root, tmp_path):
    """The SynthFER test split in the two layouts, labels by name."""
    rafdb = RAFDB(synthfer_root, split='test')
    names = [RAFDB_CATEGORIES[i] for i in rafdb.get_gt_labels()]
    export_synthfer(synthfer_root, str(tmp_path / 'fp'), 'ferplus', contempt=2)
    ferplus = FERPlus(str(tmp_path / 'fp'), split='test')
    fer_names = [FERPLUS_CATEGORIES[i] for i in ferplus.get_gt_labels()]
    assert fer_names[-2:] == ['Contempt', 'Contempt']
    assert [canonical_expression(n) for n in fer_names[:-2]] == \
        [canonical_expression(n) for n in names]
    assert ferplus.get_data_info(0)['img'].shape == (48, 48, 3)
    export_synthfer(
        synthfer_root, str(tmp_path / 'an'), 'affectnet', contempt=2)
    affectnet = AffectNet(
        str(tmp_path / 'an'),
        split='val',
        ann_file='validation.csv',
        data_prefix='Manually_Annotated_Images',
        pipeline=[dict(type='LoadFaceImage')])
    assert [AFFECTNET_CATEGORIES[i]
            for i in affectnet.get_gt_labels()][-2:] == ['Contempt'] * 2
    # the face box gives back the SynthFER image exactly
    expected = LoadFaceImage()(
        dict(img_path=rafdb.get_data_info(0)['img_path']))['img']
    assert np.array_equal(affectnet[0]['img'], expected)


@pytest.mark.slow
def test_test_tool_cross_dataset(synthfer_root, tmp_path):
    """tools/test.py --cross-dataset: a RAF-DB-class model on FERPlus."""
    from config_utils import write_config
    from mmpretrain.registry import MODELS
    export_synthfer(synthfer_root, str(tmp_path / 'fp'), 'ferplus', contempt=3)
    cfg = write_config(tmp_path / 'tiny.py', synthfer_root)
    model_cfg = Config.fromfile(cfg).model
    torch.manual_seed(0)
    torch.save({
        'state_dict': MODELS.build(model_cfg).state_dict(),
        'meta': {}
    }, tmp_path / 'model.pth')
    proc = run_tool(
        'tools/test.py',
        cfg,
        str(tmp_path / 'model.pth'),
        '--cross-dataset',
        osp.join(REPO, 'configs', 'dan_r18_ferplus.py'),
        '--work-dir',
        str(tmp_path / 'work'),
        '--out',
        str(tmp_path / 'metrics.json'),
        '--out-item',
        'metrics',
        '--cfg-options',
        f'test_dataloader.dataset.data_root={tmp_path}/fp',
        'test_dataloader.num_workers=0',
        in_process=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert metrics['fer/matched_classes'] == 7
    assert metrics['fer/left_out_samples'] == 3
    assert {f'fer/recall/{n}' for n in FERPLUS_CATEGORIES[:7]} <= set(metrics)
    assert 'left out: data set classes Contempt (3 test samples)' in \
        proc.stdout + proc.stderr


def _files(root):
    """{relative path: bytes} of every file under ``root``."""
    import os
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


@pytest.mark.slow
def test_export_both_splits_to_one_affectnet_folder(synthfer_root, tmp_path):
    """Issue 17: --split train then --split test into one folder once made
    the test export rewrite 1/0.png..., so training.csv pointed at test
    faces. Each split now has its own pictures and both CSVs stay true."""
    out = str(tmp_path / 'an')
    export_synthfer(synthfer_root, out, 'affectnet', split='train')
    first = _files(out)
    export_synthfer(synthfer_root, out, 'affectnet', split='test', contempt=1)
    both = _files(out)
    # nothing the train export wrote changed; the test export only added
    assert {k: both[k] for k in first} == first
    assert len(both) == len(first) + 14 + 1 + 1  # pictures + validation.csv
    for split, csv_name, kind in (('train', 'training.csv', 'train'),
                                  ('val', 'validation.csv', 'test')):
        exported = AffectNet(
            out,
            split=split,
            ann_file=csv_name,
            data_prefix='Manually_Annotated_Images',
            pipeline=[dict(type='LoadFaceImage')])
        source = RAFDB(synthfer_root, split=kind)
        assert len(exported) == len(source) + (kind == 'test')
        for i in range(len(source)):
            info = exported.get_data_info(i)
            assert osp.basename(info['img_path']).startswith(f'{kind}_')
            face = LoadFaceImage()(
                dict(img_path=source.get_data_info(i)['img_path']))['img']
            assert np.array_equal(exported[i]['img'], face), (split, i)


@pytest.mark.slow
def test_export_refuses_a_split_already_there(synthfer_root, tmp_path):
    from dan_mm.utils.errors import OutputExistsError
    out = str(tmp_path / 'an')
    export_synthfer(synthfer_root, out, 'affectnet', split='test', contempt=2)
    export_synthfer(synthfer_root, out, 'affectnet', split='train')
    before = _files(out)
    with pytest.raises(
            OutputExistsError,
            match='validation.csv exists .*'
            'another folder, or pass overwrite=True'):
        export_synthfer(synthfer_root, out, 'affectnet', split='test')
    assert _files(out) == before
    # --overwrite replaces that split cleanly (2 Contempt pictures fewer)
    # and keeps the other
    export_synthfer(
        synthfer_root, out, 'affectnet', split='test', overwrite=True)
    after = _files(out)
    assert sorted(k for k in after if 'test_' in k) == sorted(
        osp.join('Manually_Annotated_Images', '1', f'test_{i}.png')
        for i in range(14))
    assert {k: v for k, v in after.items() if 'train' in k} == \
        {k: v for k, v in before.items() if 'train' in k}


@pytest.mark.slow
def test_export_both_splits_to_one_ferplus_folder(synthfer_root, tmp_path):
    from dan_mm.utils.errors import OutputExistsError
    out = str(tmp_path / 'fp')
    export_synthfer(synthfer_root, out, 'ferplus', split='train')
    export_synthfer(synthfer_root, out, 'ferplus', split='test', contempt=2)
    for split, kind, extra in (('train', 'train', 0), ('test', 'test', 2)):
        exported = FERPlus(out, split=split)
        source = RAFDB(synthfer_root, split=kind)
        names = [FERPLUS_CATEGORIES[i] for i in exported.get_gt_labels()]
        assert len(names) == len(source) + extra
        assert [canonical_expression(n) for n in names[:len(source)]] == [
            canonical_expression(RAFDB_CATEGORIES[i])
            for i in source.get_gt_labels()
        ]
    with open(osp.join(out, 'fer2013new.csv')) as f:
        image_names = [line.split(',')[1] for line in f.readlines()[1:]]
    assert len(image_names) == 28 + 16 == len(set(image_names))
    before = _files(out)
    with pytest.raises(OutputExistsError, match='Usage PrivateTest already'):
        export_synthfer(synthfer_root, out, 'ferplus', split='test')
    assert _files(out) == before
    export_synthfer(
        synthfer_root, out, 'ferplus', split='test', overwrite=True)
    assert len(FERPlus(out, split='test')) == 14
    assert len(FERPlus(out, split='train')) == 28
