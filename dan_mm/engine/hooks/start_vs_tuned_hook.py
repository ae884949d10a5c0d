"""Say how much fine-tuning gained: the validation scores of the starting
model and of the tuned one, side by side."""
import json
import os.path as osp
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

# The scores shown, in this order (FERMetric's keys).
SHOWN = ('fer/top1', 'fer/balanced_accuracy', 'fer/macro_f1')


def evaluate_on_val(runner) -> Dict[str, float]:
    """The model's scores on the validation split, now, without calling the
    validation hooks (no checkpoint is saved, nothing is logged).

    Args:
        runner (Runner): A runner with a validation loop.

    Returns:
        dict[str, float]: The val evaluator's metrics.
    """
    loop = runner.val_loop
    model = runner.model
    module = model.module if is_model_wrapper(model) else model
    training = module.training
    model.eval()
    with torch.no_grad():
        for data in loop.dataloader:
            outputs = model.val_step(data)
            loop.evaluator.process(data_samples=outputs, data_batch=data)
    metrics = loop.evaluator.evaluate(len(loop.dataloader.dataset))
    model.train(training)
    return metrics


@HOOKS.register_module()
class StartVsTunedHook(Hook):
    """Score the model on the validation split before and after training.

    Before the first epoch (after ``load_from`` is loaded) and after the
    last, the validation split is scored; the end of training logs both side
    by side and writes them to ``work_dir/start_vs_tuned.json``. A resumed
    run scores only the tuned model.

    Args:
        filename (str): The JSON file in the work dir. Defaults to
            ``'start_vs_tuned.json'``.
    """

    priority = 'LOW'

    def __init__(self, filename: str = 'start_vs_tuned.json') -> None:
        self.filename = filename
        self.start: Optional[Dict[str, float]] = None

    def before_train(self, runner) -> None:
        """Score the starting model."""
        if runner.val_loop is None or runner.cfg.get('resume'):
            return
        self.start = evaluate_on_val(runner)

    def after_train(self, runner) -> None:
        """Score the tuned model; log and save both."""
        if runner.val_loop is None:
            return
        tuned = evaluate_on_val(runner)
        start = self.start or {}
        keys = [k for k in SHOWN if k in tuned] + sorted(
            k for k in tuned if k.startswith('fer/recall/'))
        lines = [
            f'{"held-out split":<28} {"start":>8} {"tuned":>8}',
            *(f'{k[4:]:<28} {_fmt(start.get(k)):>8} {_fmt(tuned[k]):>8}'
              for k in keys)
        ]
        start_name = runner.cfg.get('load_from') or 'its initialisation'
        runner.logger.info(
            f'Starting model ({start_name}) and tuned model on the held-out '
            'split:\n' + '\n'.join(lines))
        with open(osp.join(runner.work_dir, self.filename), 'w') as f:
            json.dump(
                dict(
                    load_from=runner.cfg.get('load_from'),
                    start=_plain(start),
                    tuned=_plain(tuned)),
                f,
                indent=2)


def _fmt(value) -> str:
    return '-' if value is None else f'{float(value):.2f}'


def _plain(metrics: dict) -> dict:
    """Only the numbers (FERMetric adds a confusion matrix)."""
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float)) or getattr(v, 'numel', lambda: 0)() == 1
    }
