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
    """

    priority = 'VERY_HIGH'

    def _check(self, runner, dataloader, split: str) -> None:
        dataset = getattr(dataloader, 'dataset', None)
        # Some tools' stand-in loaders (mmpretrain's vis_scheduler.py) have
        # no data set, or one whose metainfo is None.
        classes: Optional[list] = (getattr(dataset, 'metainfo', None)
                                   or {}).get('classes')
        if not classes:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        for key, module in (('model.head', getattr(model, 'head', None)),
                            ('model.data_preprocessor',
                             getattr(model, 'data_preprocessor', None))):
            num_classes = getattr(module, 'num_classes', None)
            if num_classes is not None and num_classes != len(classes):
                raise NumClassesMismatchError(
                    f'{key}.num_classes={num_classes} but the {split} data '
                    f'set {type(dataset).__name__} has {len(classes)} '
                    f'classes ({", ".join(map(str, classes))}); set '
                    f'{key}.num_classes={len(classes)} in the config')

    def before_train(self, runner) -> None:
        """Check the training data set."""
        self._check(runner, runner.train_dataloader, 'train')

    def before_val(self, runner) -> None:
        """Check the validation data set."""
        self._check(runner, runner.val_dataloader, 'val')

    def before_test(self, runner) -> None:
        """Check the test data set."""
        self._check(runner, runner.test_dataloader, 'test')
