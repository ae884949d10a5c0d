"""DAN as a whole: mmpretrain's ImageClassifier plus deploy and attention."""
from typing import Optional

import torch
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from modelindex.models.Model import Model


@MODELS.register_module()
class DAN(ImageClassifier):
    """DAN: FCN backbone, MAN neck, AFN head, in an ImageClassifier.

    Training, testing and checkpoints are exactly those of
    :class:`~mmpretrain.models.classifiers.ImageClassifier` (same arguments,
    same state-dict keys). It adds what inference tools need:

    - :meth:`switch_to_deploy`, the RepVGG-style re-parameterisation entry
      point, delegated to every part that has one (the MAN neck);
    - :meth:`attention_maps`, each head's spatial attention map.

    ``mmpretrain.get_model`` stores the model-zoo entry it was built from in
    ``_metainfo`` (None when built from a config file); a DAN without one
    reports the task "Image Classification", so that
    ``mmpretrain.inference_model`` picks ImageClassificationInferencer for
    ``get_model('configs/....py')`` too, not only for model names.
    """

    # What inference_model reads: a task it maps to an inferencer.
    CLASSIFIER_METAINFO = Model(
        name='dan',
        results=[
            dict(Task='Image Classification', Dataset='unknown', Metrics={})
        ])

    @property
    def _metainfo(self) -> Model:
        metainfo = self.__dict__.get('_zoo_metainfo')
        return self.CLASSIFIER_METAINFO if metainfo is None else metainfo

    @_metainfo.setter
    def _metainfo(self, metainfo: Optional[Model]) -> None:
        self.__dict__['_zoo_metainfo'] = metainfo

    def switch_to_deploy(self) -> None:
        """Fuse every part that supports it for fast inference (eval only).

        Check with ``model.neck.deploy`` afterwards; the change cannot be
        undone, so save the deploy checkpoint separately.
        """
        for part in (self.backbone, self.neck, self.head):
            if part is not None and hasattr(part, 'switch_to_deploy'):
                part.switch_to_deploy()

    def attention_maps(self, inputs: torch.Tensor) -> torch.Tensor:
        """Each head's spatial attention map.

        Args:
            inputs (Tensor): Normalised images ``(N, 3, H, W)``.

        Returns:
            Tensor: ``(N, K, h, w)`` at the backbone's output resolution
            (7x7 for 224x224 inputs).
        """
        return self.neck.attention_maps(self.backbone(inputs))
