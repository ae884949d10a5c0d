"""Point every FERMetric without a ``save_dir`` at the run's log folder."""
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from dan_mm.evaluation.metrics import FERMetric


@HOOKS.register_module()
class SaveConfusionMatrixHook(Hook):
    """Make :class:`FERMetric` save ``confusion_matrix.png`` in the work dir.

    The metric is built before the runner knows its timestamped log folder
    (``work_dir/<timestamp>/``), so this hook hands it over at the start of
    each validation and test.
    """
    priority = 'LOW'

    @staticmethod
    def _point(runner, loop) -> None:
        for metric in loop.evaluator.metrics:
            if isinstance(metric, FERMetric) and metric.save_dir is None:
                metric.save_dir = runner.log_dir

    def before_val(self, runner) -> None:
        self._point(runner, runner.val_loop)

    def before_test(self, runner) -> None:
        self._point(runner, runner.test_loop)
