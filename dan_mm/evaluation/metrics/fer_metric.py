"""The numbers FER papers report, from one confusion matrix."""
import os
import os.path as osp
from typing import List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.evaluation.metrics import ConfusionMatrix
from mmpretrain.registry import METRICS

from dan_mm.datasets.categories import match_classes_by_name
from dan_mm.evaluation.calibration import (apply_temperature,
                                           calibration_metrics,
                                           save_reliability_diagram)
from dan_mm.evaluation.groups import (RAFDB_GROUPS, SYNTHFER_GROUPS,
                                      format_group_report, group_report,
                                      image_key, read_group_csv,
                                      read_rafdb_attributes, save_group_plot,
                                      write_group_csv)
from dan_mm.utils.errors import ConfigError, NumClassesMismatchError

GROUP_NAMES = dict(rafdb=RAFDB_GROUPS, synthfer=SYNTHFER_GROUPS)


@METRICS.register_module()
class FERMetric(BaseMetric):
    """Top-1, balanced accuracy, per-class recall, macro F1, confusion matrix.

    Balanced accuracy is the mean of the per-class recalls over the whole
    evaluation set (classes absent from the ground truth are left out, as
    scikit-learn does). The reference's early figure averaged per-batch
    scores instead, which is not the same thing. Macro F1 averages over the
    classes present in the ground truth or the predictions, as scikit-learn
    does; see :func:`fer_metrics` for the exact definitions.

    **Calibration.** ``ece`` (15 equal-width bins, percent), ``nll`` and
    ``brier`` say how far the probabilities can be trusted
    (:mod:`dan_mm.evaluation.calibration`); with ``temperature`` they are
    those of the calibrated probabilities (top-1 is the same either way).

    **Groups.** With ``groups`` (RAF-DB's ``Annotation/manual`` folder, or
    a CSV of ``image,group_name,group_value`` rows) the log also shows
    top-1 (95% interval), balanced accuracy and ECE per group of people
    and the largest gap (:mod:`dan_mm.evaluation.groups`), saved as
    ``groups.png`` and ``groups.csv``.

    At the end of an evaluation the confusion matrix is logged as a table
    and, when ``save_dir`` (or the runner's work dir, see
    :class:`~dan_mm.engine.hooks.SaveConfusionMatrixHook`) is known, saved as
    ``confusion_matrix.png`` with class names on the axes, beside
    ``reliability.png`` (the reliability diagram). The last one
    stays in ``confusion_matrix`` (counts, rows = ground truth) with its
    ``class_names``, for :class:`~dan_mm.engine.hooks.FERVisualizationHook`
    (None before the first evaluation, and on ranks other than 0).

    **Cross-dataset evaluation.** With ``model_classes`` (the classes the
    model predicts, e.g. RAF-DB's) the model is tested on another data
    set's classes, matched by expression name
    (:func:`~dan_mm.datasets.categories.match_classes_by_name`: "Happy" is
    "Happiness"). Test samples of data set classes the model does not know
    are left out; the prediction is the most likely of the matched model
    classes (a model class the data set lacks is never predicted). All
    metrics are over the matched classes, named as the data set names them;
    ``matched_classes`` and ``left_out_samples`` count what was used and
    what was not, and the pairing is logged.

    Args:
        num_classes (int, optional): Number of classes. Defaults to the
            length of the data set's ``classes``.
        classes (Sequence[str], optional): Class names for the log and plot.
            Defaults to the data set's meta information.
        save_dir (str, optional): Where to save ``confusion_matrix.png``.
        model_classes (Sequence[str], optional): The model's classes, in
            its output order, for cross-dataset evaluation. Defaults to
            None: the model predicts the data set's classes.
        temperature (float, optional): Calibrate the probabilities with
            this temperature first (``tools/analysis_tools/calibrate.py``).
            Defaults to None.
        groups (str, optional): RAF-DB's ``Annotation/manual`` folder or a
            group CSV, for the per-group report. Defaults to None.
        group_names (str): What the codes of RAF-DB-layout annotation
            files mean: ``'rafdb'`` (gender, race, age) or ``'synthfer'``
            (the generator's skin tone and apparent age). Defaults to
            ``'rafdb'``.
        collect_device (str): Device to collect results on. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to ``'fer'``.
    """
    default_prefix = 'fer'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 classes: Optional[Sequence[str]] = None,
                 save_dir: Optional[str] = None,
                 model_classes: Optional[Sequence[str]] = None,
                 temperature: Optional[float] = None,
                 groups: Optional[str] = None,
                 group_names: str = 'rafdb',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if temperature is not None and not temperature > 0:
            raise ConfigError(f'FERMetric temperature must be > 0, got '
                              f'{temperature}')
        if group_names not in GROUP_NAMES:
            raise ConfigError(f'FERMetric group_names must be one of '
                              f'{", ".join(GROUP_NAMES)}, got "{group_names}"')
        self.temperature = temperature
        self.groups = groups
        self.group_names = group_names
        self.num_classes = num_classes
        self.classes = classes
        self.save_dir = save_dir
        self.confusion_matrix: Optional[torch.Tensor] = None
        self.group_report: Optional[dict] = None
        self.class_names: Optional[List[str]] = None
        self.model_classes = None if model_classes is None else list(
            model_classes)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = int(sample['gt_label'].item())
            # scores for calibration (and for the choice among the matched
            # classes of a cross-dataset test, made at the end)
            score = sample.get('pred_score')
            self.results.append(
                (None if score is None else score.float().cpu(),
                 int(sample['pred_label'].item()) if 'pred_label' in sample
                 else None, gt, sample.get('img_path')))

    def _class_names(self) -> Optional[List[str]]:
        if self.classes is not None:
            return list(self.classes)
        meta = self.dataset_meta or {}
        return list(meta['classes']) if 'classes' in meta else None

    def compute_metrics(self, results: list) -> dict:
        if self.model_classes is not None:
            return self._cross_dataset_metrics(results)
        classes = self._class_names()
        num_classes = self.num_classes or (len(classes) if classes else None)
        if not results:
            MMLogger.get_current_instance().warning(
                'FERMetric: no predictions to evaluate')
            return {}
        scores = None
        if all(r[0] is not None for r in results):
            scores = apply_temperature(
                torch.stack([r[0] for r in results]).numpy(), self.temperature)
            pred = torch.from_numpy(scores.argmax(axis=1))
        else:  # labels only (no probabilities: no calibration metrics)
            pred = torch.tensor([r[1] for r in results])
        target = torch.tensor([r[2] for r in results])
        if num_classes is None:
            num_classes = int(max(pred.max(), target.max())) + 1
        for name, labels in (('predicted', pred), ('ground-truth', target)):
            bad = labels[(labels < 0) | (labels >= num_classes)]
            if bad.numel():
                # mmpretrain's ConfusionMatrix would silently count such a
                # label in the wrong cell.
                raise NumClassesMismatchError(
                    f'FERMetric: {name} label {int(bad[0])} is outside '
                    f'0..{num_classes - 1} (num_classes={num_classes}); '
                    'do the model and the data set agree on the classes? '
                    '(to test a model on another data set\'s classes, give '
                    'FERMetric model_classes, or tools/test.py '
                    '--cross-dataset)')
        cm = ConfusionMatrix.calculate(pred, target, num_classes).double()
        names = classes or [str(i) for i in range(num_classes)]
        metrics = fer_metrics(cm, names)
        self._report(cm.long(), names)
        if scores is not None:
            metrics.update(calibration_metrics(scores, target.numpy()))
            self._report_calibration(scores, target.numpy())
            if self.groups is not None:
                self._report_groups(scores, target.numpy(),
                                    [r[3] for r in results])
        self.confusion_matrix, self.class_names = cm.long(), names
        return metrics

    def _report_calibration(self, scores, target) -> None:
        if self.save_dir is None:
            return
        os.makedirs(self.save_dir, exist_ok=True)
        title = 'calibrated' if self.temperature else 'as the model says'
        if self.temperature:
            title += f' (T = {self.temperature:.3f})'
        save_reliability_diagram([(title, scores, target)],
                                 osp.join(self.save_dir, 'reliability.png'))

    def _report_groups(self, scores, target, img_paths: list) -> None:
        """Log the per-group report; save groups.png and groups.csv."""
        if any(p is None for p in img_paths):
            raise ConfigError('FERMetric groups needs each sample\'s '
                              'img_path (PackInputs keeps it by default)')
        if osp.isdir(self.groups):
            groups = read_rafdb_attributes(self.groups,
                                           [image_key(p) for p in img_paths],
                                           GROUP_NAMES[self.group_names])
        else:
            groups = read_group_csv(self.groups, img_paths,
                                    (self.dataset_meta or {}).get('data_root'))
        report = group_report(scores, target, groups)
        MMLogger.get_current_instance().info(
            f'per-group report ({self.groups}):\n' +
            format_group_report(report))
        self.group_report = report
        if self.save_dir is not None:
            os.makedirs(self.save_dir, exist_ok=True)
            save_group_plot(report, osp.join(self.save_dir, 'groups.png'))
            write_group_csv(report, osp.join(self.save_dir, 'groups.csv'))

    def _cross_dataset_metrics(self, results: list) -> dict:
        """The metrics over the classes the model and data set share."""
        data_classes = self._class_names()
        if data_classes is None:
            raise ConfigError(
                'FERMetric model_classes needs the data set\'s class names '
                '(its metainfo "classes", or FERMetric classes=...)')
        match = match_classes_by_name(self.model_classes, data_classes)
        if not match.pairs:
            raise ConfigError(
                f'no class of the model ({", ".join(self.model_classes)}) '
                'has the name of a class of the data set ('
                f'{", ".join(data_classes)}): nothing to evaluate')
        logger = MMLogger.get_current_instance()
        if not results:
            logger.warning('FERMetric: no predictions to evaluate')
            return {}
        data_index = {d: k for k, (d, _) in enumerate(match.pairs)}
        model_index = torch.tensor([m for _, m in match.pairs])
        kept = [(score, data_index[gt]) for score, _, gt, _ in results
                if gt in data_index]
        left_out = len(results) - len(kept)
        num_scores = results[0][0].numel()
        if num_scores != len(self.model_classes):
            raise NumClassesMismatchError(
                f'FERMetric: the model scores {num_scores} classes but '
                f'model_classes names {len(self.model_classes)} ('
                f'{", ".join(self.model_classes)})')
        names = [data_classes[d] for d, _ in match.pairs]
        logger.info(
            'cross-dataset evaluation, classes matched by name (data set <- '
            'model): ' +
            ', '.join(f'{data_classes[d]} <- {self.model_classes[m]}'
                      for d, m in match.pairs) +
            '; left out: data set classes '
            f'{", ".join(match.data_left_out) or "none"} ({left_out} test '
            'samples), model classes '
            f'{", ".join(match.model_left_out) or "none"} (never predicted)')
        if not kept:
            logger.warning('FERMetric: no test sample of a matched class')
            return dict(matched_classes=len(names), left_out_samples=left_out)
        scores = torch.stack([score for score, _ in kept])
        pred = scores[:, model_index].argmax(dim=1)
        target = torch.tensor([gt for _, gt in kept])
        cm = ConfusionMatrix.calculate(pred, target, len(names)).double()
        metrics = fer_metrics(cm, names)
        metrics.update(matched_classes=len(names), left_out_samples=left_out)
        self._report(cm.long(), names)
        return metrics

    def _report(self, cm: torch.Tensor, names: List[str]) -> None:
        width = max(len(n) for n in names) + 1
        rows = [
            'confusion matrix (rows: ground truth, columns: prediction)',
            ' ' * width + ' '.join(f'{n[:6]:>6}' for n in names)
        ]
        for name, row in zip(names, cm.tolist()):
            rows.append(f'{name:<{width}}' + ' '.join(f'{v:>6}' for v in row))
        MMLogger.get_current_instance().info('\n'.join(rows))
        if self.save_dir is not None:
            os.makedirs(self.save_dir, exist_ok=True)
            save_confusion_matrix(
                cm, names, osp.join(self.save_dir, 'confusion_matrix.png'))


def fer_metrics(cm: torch.Tensor, names: List[str]) -> dict:
    """Top-1, balanced accuracy, macro F1 and per-class recall, in percent.

    - ``top1``: correct / all.
    - ``balanced_accuracy``: the mean recall of the classes present in the
      ground truth (scikit-learn's ``balanced_accuracy_score``).
    - ``macro_f1``: the mean F1 of the classes present in the ground truth
      or in the predictions (scikit-learn's ``f1_score(average='macro')``);
      a class predicted but absent from the ground truth scores F1 = 0.
    - ``recall/<class>``: for the classes present in the ground truth only;
      a class with no samples has no recall and gets no entry.

    Args:
        cm (Tensor): ``(num_classes, num_classes)`` counts, rows = truth.
        names (list[str]): Class names.

    Returns:
        dict: The metrics.
    """
    cm = cm.double()
    support, predicted = cm.sum(dim=1), cm.sum(dim=0)
    hits = cm.diag()
    present = support > 0
    recall = hits / support.clamp(min=1)
    precision = hits / predicted.clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    metrics = {
        'top1': 100 * hits.sum().item() / cm.sum().item(),
        'balanced_accuracy': 100 * recall[present].mean().item(),
        'macro_f1': 100 * f1[present | (predicted > 0)].mean().item(),
    }
    for name, value, is_present in zip(names, recall.tolist(),
                                       present.tolist()):
        if is_present:
            metrics[f'recall/{name}'] = 100 * value
    absent = [n for n, p in zip(names, present.tolist()) if not p]
    if absent:
        MMLogger.get_current_instance().info(
            'FERMetric: no ground-truth samples of ' + ', '.join(absent) +
            ' (left out of balanced accuracy and per-class recall)')
    return metrics


def save_confusion_matrix(cm: torch.Tensor, names: List[str],
                          path: str) -> str:
    """Plot a confusion matrix with class names on the axes as a PNG.

    Args:
        cm (Tensor): ``(num_classes, num_classes)`` counts, rows = truth.
        names (list[str]): Class names.
        path (str): Output file.

    Returns:
        str: ``path``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig = ConfusionMatrix.plot(
        cm, include_values=True, classes=names, show=False)
    fig.savefig(path, dpi=120, bbox_inches='tight')
    plt.close(fig)
    return path
