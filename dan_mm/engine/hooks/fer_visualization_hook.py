"""Send the confusion matrix and attention panels to every vis backend."""
from typing import Optional

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS

from dan_mm.evaluation.metrics import FERMetric
from dan_mm.visualization import draw_attention_panels, draw_confusion_matrix


@HOOKS.register_module()
class FERVisualizationHook(Hook):
    """Log FER images through mmengine's Visualizer after each evaluation.

    After every validation and test it adds, with the tags
    ``{val,test}/confusion_matrix`` and ``{val,test}/attention``:

    - the confusion matrix of every :class:`FERMetric` of the evaluator
      (class names on the axes, as ``confusion_matrix.png``);
    - attention panels (DAN's Figure 1) of the first ``num_images`` images
      of the evaluation set: the input, then each head's spatial attention
      map over it, titled with the prediction and its score. Models without
      ``attention_maps()`` (a plain ImageClassifier) get the matrix only.

    Every backend of the runner's visualizer receives them
    (``TensorboardVisBackend``, ``WandbVisBackend``, ``LocalVisBackend``,
    ...). Training and validation scalars reach them through the LoggerHook
    as always; this hook adds the test metrics as ``test/<metric>``. The
    step is the epoch for epoch-based training, the iteration otherwise,
    and 0 in a test-only run. ``--tensorboard`` of ``tools/train.py`` and
    ``tools/test.py`` turns it on together with the TensorBoard backend.

    Args:
        enable (bool): Log anything at all. Defaults to False (the runtime
            config lists the hook switched off).
        num_images (int): Images to draw attention panels for. Defaults to 4.
        panel_size (int): Side of each panel in pixels. Defaults to 96.
    """

    priority = 'LOW'

    def __init__(self,
                 enable: bool = False,
                 num_images: int = 4,
                 panel_size: int = 96):
        self.enable = enable
        self.num_images = num_images
        self.panel_size = panel_size

    @staticmethod
    def _step(runner) -> int:
        # Reading runner.train_loop would build it; a test-only run has none.
        loop = runner._train_loop
        if loop is None or isinstance(loop, dict):
            return 0
        return runner.epoch if isinstance(loop,
                                          EpochBasedTrainLoop) else runner.iter

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Log the validation matrix and panels."""
        if self.enable:
            self._log(runner, runner.val_loop, 'val')

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Log the test metrics (as ``test/<name>``), matrix and panels."""
        if not self.enable:
            return
        # mmengine's LoggerHook writes validation metrics to the backends,
        # test metrics only to the log and the JSON file.
        scalars = {
            f'test/{name}': value
            for name, value in (metrics or {}).items()
            if isinstance(value, (int, float))
        }
        if scalars:
            runner.visualizer.add_scalars(scalars, step=self._step(runner))
        self._log(runner, runner.test_loop, 'test')

    def _log(self, runner, loop, split: str) -> None:
        step = self._step(runner)
        for metric in loop.evaluator.metrics:
            if (isinstance(metric, FERMetric)
                    and metric.confusion_matrix is not None):
                runner.visualizer.add_image(
                    f'{split}/confusion_matrix',
                    draw_confusion_matrix(metric.confusion_matrix,
                                          metric.class_names),
                    step=step)
        panels = self.attention_panels(runner, loop.dataloader)
        if panels is not None:
            runner.visualizer.add_image(
                f'{split}/attention', panels, step=step)

    @torch.no_grad()
    def attention_panels(self, runner, dataloader) -> Optional[np.ndarray]:
        """Panels of the first ``num_images`` images of ``dataloader``.

        Args:
            runner (Runner): The runner, for its model.
            dataloader (DataLoader): The evaluation loader.

        Returns:
            np.ndarray | None: RGB ``uint8`` image, one row per image, or
            None when the model has no ``attention_maps``.
        """
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        dataset = dataloader.dataset
        num = min(self.num_images, len(dataset))
        if not hasattr(model, 'attention_maps') or num == 0:
            return None
        batch = dataloader.collate_fn([dataset[i] for i in range(num)])
        was_training = model.training
        model.eval()
        try:
            data = model.data_preprocessor(batch, False)
            maps = model.attention_maps(data['inputs']).float().cpu()
            preds = model.predict(data['inputs'], data['data_samples'])
        finally:
            model.train(was_training)
        classes = (dataset.metainfo or {}).get('classes')
        rows = []
        for raw, head_maps, pred in zip(batch['inputs'], maps, preds):
            # The loader's image before normalisation (BGR, as loaded).
            image = np.ascontiguousarray(raw.permute(1, 2, 0).cpu().numpy())
            label = int(pred.pred_label)
            rows.append(
                draw_attention_panels(
                    image, [
                        dict(
                            crop_box=(0, 0, image.shape[1], image.shape[0]),
                            attention_maps=head_maps.numpy(),
                            pred_label=label,
                            pred_class=classes[label] if classes else label,
                            pred_score=float(pred.pred_score[label]))
                    ],
                    panel_size=self.panel_size,
                    numbered=False))  # samples, not faces of one photo
        return cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_BGR2RGB)
