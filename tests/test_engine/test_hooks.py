"""The runtime config's hooks, on a stand-in runner (the Runner itself runs
them in the slow tests)."""
from types import SimpleNamespace

import pytest
import torch

from dan_mm.engine.hooks import NumClassesCheckHook, SaveConfusionMatrixHook
from dan_mm.evaluation import FERMetric
from dan_mm.utils.errors import NumClassesMismatchError


def loader_of(classes):
    return SimpleNamespace(
        dataset=SimpleNamespace(metainfo=dict(classes=classes)))


def runner_with(num_classes, classes):
    model = torch.nn.Module()
    model.head = SimpleNamespace(num_classes=num_classes)
    model.data_preprocessor = SimpleNamespace(num_classes=None)
    loop = SimpleNamespace(evaluator=SimpleNamespace(metrics=[]))
    return SimpleNamespace(
        model=model,
        train_dataloader=loader_of(classes),
        val_dataloader=loader_of(classes[:2]),
        test_dataloader=loader_of(None),
        val_loop=loop,
        test_loop=loop)


def test_num_classes_check_names_the_key_and_the_fix():
    hook = NumClassesCheckHook()
    runner = runner_with(3, ('a', 'b', 'c'))
    hook.before_train(runner)  # agrees
    hook.before_test(runner)  # no classes in the metainfo: not checked
    with pytest.raises(NumClassesMismatchError) as info:
        hook.before_val(runner)
    assert str(info.value) == (
        'model.head.num_classes=3 but the val data set SimpleNamespace has 2 '
        'classes (a, b); set model.head.num_classes=2 in the config')
    runner.model.data_preprocessor.num_classes = 4
    with pytest.raises(
            NumClassesMismatchError,
            match='model.data_preprocessor.num_classes=4'):
        hook.before_train(runner)


def test_confusion_matrix_goes_to_the_run_log_dir():
    own, other = FERMetric(), FERMetric(save_dir='/elsewhere')
    loop = SimpleNamespace(evaluator=SimpleNamespace(metrics=[own, other]))
    runner = SimpleNamespace(
        log_dir='/work/run', val_loop=loop, test_loop=loop)
    SaveConfusionMatrixHook().before_val(runner)
    assert own.save_dir == '/work/run' and other.save_dir == '/elsewhere'
