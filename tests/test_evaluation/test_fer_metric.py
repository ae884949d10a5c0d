import os.path as osp

import pytest
import torch
from mmpretrain.evaluation.metrics import ConfusionMatrix

from dan_mm.evaluation import FERMetric, save_confusion_matrix


def evaluate(pred, gt, classes, **kwargs):
    metric = FERMetric(**kwargs)
    metric.dataset_meta = {'classes': classes}
    metric.process(None, [
        dict(pred_label=torch.tensor([p]), gt_label=torch.tensor([g]))
        for p, g in zip(pred, gt)
    ])
    return metric.evaluate(len(pred))


def test_hand_computed_all_classes_present():
    # confusion matrix (rows truth): A [2 1 0], B [0 2 0], C [0 0 1]
    m = evaluate(
        pred=[0, 0, 1, 1, 1, 2],
        gt=[0, 0, 0, 1, 1, 2],
        classes=('A', 'B', 'C'))
    assert m['fer/top1'] == pytest.approx(100 * 5 / 6)
    # recalls 2/3, 1, 1
    assert m['fer/balanced_accuracy'] == pytest.approx(100 * (2 / 3 + 2) / 3)
    assert m['fer/recall/A'] == pytest.approx(100 * 2 / 3)
    assert m['fer/recall/B'] == pytest.approx(100)
    # precisions 1, 2/3, 1 -> F1 0.8, 0.8, 1
    assert m['fer/macro_f1'] == pytest.approx(100 * 2.6 / 3)


def test_absent_class_is_left_out_of_balanced_accuracy():
    # C: neither in truth nor predictions; D: predicted once, never true
    m = evaluate(
        pred=[0, 3, 1, 1], gt=[0, 0, 1, 1], classes=('A', 'B', 'C', 'D'))
    assert m['fer/top1'] == pytest.approx(75)
    # (0.5 + 1) / 2, not (0.5 + 1 + 0 + 0) / 4
    assert m['fer/balanced_accuracy'] == pytest.approx(75)
    assert 'fer/recall/C' not in m and 'fer/recall/D' not in m
    assert m['fer/recall/A'] == pytest.approx(50)
    # F1 over A (2/3), B (1), D (0: predicted but absent), as sklearn does
    assert m['fer/macro_f1'] == pytest.approx(100 * (2 / 3 + 1 + 0) / 3)


def test_balanced_accuracy_is_over_the_whole_set_not_per_batch():
    metric = FERMetric()
    metric.dataset_meta = {'classes': ('A', 'B')}
    # batch 1: A right x3; batch 2: B wrong, A right -> recall A 1, B 0
    for batch in ([(0, 0)] * 3, [(0, 1), (0, 0)]):
        metric.process(None, [
            dict(pred_label=torch.tensor([p]), gt_label=torch.tensor([g]))
            for p, g in batch
        ])
    m = metric.evaluate(5)
    assert m['fer/balanced_accuracy'] == pytest.approx(50)
    assert m['fer/top1'] == pytest.approx(80)


def test_label_outside_the_classes_is_an_error():
    with pytest.raises(ValueError, match='predicted label 7 is outside 0..6'):
        evaluate(pred=[7, 0], gt=[0, 0], classes=tuple('ABCDEFG'))


def test_png_has_class_names_on_both_axes(tmp_path, monkeypatch):
    figures = []
    plot = ConfusionMatrix.plot

    def spy(*args, **kwargs):
        figures.append(plot(*args, **kwargs))
        return figures[-1]

    monkeypatch.setattr(ConfusionMatrix, 'plot', staticmethod(spy))
    names = ['Surprise', 'Fear', 'Disgust']
    evaluate(
        pred=[0, 1, 2, 2],
        gt=[0, 1, 2, 1],
        classes=tuple(names),
        save_dir=str(tmp_path / 'new_dir'))
    assert osp.getsize(tmp_path / 'new_dir' / 'confusion_matrix.png') > 0
    ax = figures[0].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert [t.get_text() for t in ax.get_yticklabels()] == names


def test_save_confusion_matrix_returns_path(tmp_path):
    path = str(tmp_path / 'cm.png')
    assert save_confusion_matrix(torch.eye(2).long(), ['a', 'b'], path) == path
    assert osp.isfile(path)
