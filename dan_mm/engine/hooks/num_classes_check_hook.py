"""Stop early when the model's number of classes disagrees with the data."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from dan_mm.utils.errors import NumClassesMismatchError


@HOOKS.register_module()
class NumClassesCheckHook(Hook):
    """Check ``model.head.num_classes`` against the data set's classes.

    Before training, validation and testing, compares the head's
    ``num_classes`` (and the data preprocessor's, when set) with
    ``len(dataset.metainfo['classes'])`` of the data set about to be used,
    and stops with one line naming both instead of a shape error (or, worse,
    silently wrong metrics) deep inside the run. Data sets without
    ``classes`` in their metainfo are not checked.

    In a cross-dataset evaluation (a ``FERMetric`` with ``model_classes``)
    the model is checked against ``model_classes`` instead: the data set's
    classes are matched to them by name.
    """

    priority = 'VERY_HIGH'

    def _check(self, runner, dataloader, split: str, loop=None) -> None:
        dataset = getattr(dataloader, 'dataset', None)
        # Some tools' stand-in loaders (mmpretrain's vis_scheduler.py) have
        # no data set, or one whose metainfo is None.
        classes: Optional[list] = (getattr(dataset, 'metainfo', None)
                                   or {}).get('classes')
        model_classes = _model_classes(loop)
        if model_classes is not None:
            classes = model_classes
            dataset = 'FERMetric.model_classes'
        if not classes:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        for key, module in (('model.head', getattr(model, 'head', None)),
                            ('model.data_preprocessor',
                             getattr(model, 'data_preprocessor', None))):
            num_classes = getattr(module, 'num_classes', None)
            if num_classes is not None and num_classes != len(classes):
                what = (f'{dataset} of the {split} evaluator'
                        if model_classes is not None else
                        f'the {split} data set {type(dataset).__name__}')
                raise NumClassesMismatchError(
                    f'{key}.num_classes={num_classes} but {what} has '
                    f'{len(classes)} classes ({", ".join(map(str, classes))}'
                    f'); set {key}.num_classes={len(classes)} in the config')

    def before_train(self, runner) -> None:
        """Check the training data set."""
        self._check(runner, runner.train_dataloader, 'train')

    def before_val(self, runner) -> None:
        """Check the validation data set."""
        self._check(runner, runner.val_dataloader, 'val', runner.val_loop)

    def before_test(self, runner) -> None:
        """Check the test data set."""
        self._check(runner, runner.test_dataloader, 'test', runner.test_loop)


def _model_classes(loop) -> Optional[list]:
    """``model_classes`` of the loop's cross-dataset metric, if any."""
    evaluator = getattr(loop, 'evaluator', None)
    for metric in getattr(evaluator, 'metrics', []):
        classes = getattr(metric, 'model_classes', None)
        if classes is not None:
            return classes
    return None
