"""DAN as a whole: mmpretrain's ImageClassifier plus deploy and attention."""
from typing import Tuple

import torch
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS


@MODELS.register_module()
class DAN(ImageClassifier):
    """DAN: FCN backbone, MAN neck, AFN head, in an ImageClassifier.

    Training, testing and checkpoints are exactly those of
    :class:`~mmpretrain.models.classifiers.ImageClassifier` (same arguments,
    same state-dict keys). It adds what inference and analysis tools need,
    so that they never reach into ``backbone`` / ``neck`` / ``head``:

    - :meth:`logits` and :meth:`attention_maps` on normalised images;
    - the two stages separately, :meth:`backbone_features` (the FCN) and
      :meth:`logits_from_features` / :meth:`attention_maps_from_features`
      (MAN + AFN on those features), to time them apart or to get logits
      and attention maps from one backbone pass;
    - :meth:`switch_to_deploy`, the RepVGG-style re-parameterisation entry
      point, delegated to every part that has one (the MAN neck), and
      :attr:`deploy`;
    - ``channels_last``: run the convolutions in NHWC memory format, which
      GPU tensor cores (fp16/bf16) and oneDNN prefer. Neither mmengine nor
      mmpretrain has such a switch. The 4-D weights are converted when the
      model is built (before mmengine wraps it in DDP, so that DDP's
      gradient buckets get the same layout) and again after
      :meth:`init_weights` and :meth:`switch_to_deploy`, which create new
      weights; images are converted on entry. Weights, losses and outputs
      equal the default layout's within float rounding (one seed, same
      init).

    ``extract_feat(inputs, stage='pre_logits')`` (mmpretrain's) gives the
    fused AFN feature ``(N, C)`` before the classifier.

    ``mmpretrain.inference_model`` picks ImageClassificationInferencer for
    a DAN from ``get_model('configs/....py')`` too, not only for model
    names: see :func:`dan_mm.compat.report_classifier_task`.

    Args:
        *args: Positional arguments of :class:`ImageClassifier`.
        channels_last (bool): Use the channels-last memory format. Set it
            in a config with ``model = dict(channels_last=True)`` or on the
            command line with ``--cfg-options model.channels_last=True``.
            Defaults to False.
        **kwargs: Keyword arguments of :class:`ImageClassifier`
            (``backbone``, ``neck``, ``head``, ``data_preprocessor``, ...).
    """

    def __init__(self, *args, channels_last: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.channels_last = channels_last
        self._apply_memory_format()

    def _apply_memory_format(self) -> None:
        if self.channels_last:
            # Only 4-D tensors change; parameters stay the same objects, so
            # an optimiser built before keeps working.
            self.to(memory_format=torch.channels_last)

    def init_weights(self) -> None:
        """Initialise as :class:`ImageClassifier` does, in the default
        layout, then return to channels-last if the model uses it.

        Random init fills a tensor in memory order, so initialising in the
        default layout gives the same weights for a seed in both layouts.
        """
        if self.channels_last:
            self.to(memory_format=torch.contiguous_format)
        super().init_weights()
        self._apply_memory_format()

    def extract_feat(self, inputs: torch.Tensor, stage: str = 'neck'):
        """Features of ``inputs`` ``(N, 3, H, W)``, as
        :meth:`ImageClassifier.extract_feat` (channels-last first when the
        model is)."""
        return super().extract_feat(self._format_inputs(inputs), stage)

    def _format_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.channels_last and inputs.dim() == 4:
            return inputs.contiguous(memory_format=torch.channels_last)
        return inputs

    def switch_to_deploy(self) -> None:
        """Fuse every part that supports it for fast inference (eval only).

        :attr:`deploy` is True afterwards; the change cannot be undone, so
        save the deploy checkpoint separately.
        """
        for part in (self.backbone, self.neck, self.head):
            if part is not None and hasattr(part, 'switch_to_deploy'):
                part.switch_to_deploy()
        self._apply_memory_format()  # the fused convolutions are new

    @property
    def deploy(self) -> bool:
        """Whether every part with a deploy form is in it (fused MAN)."""
        parts = [
            part for part in (self.backbone, self.neck, self.head)
            if part is not None and hasattr(part, 'deploy')
        ]
        return bool(parts) and all(part.deploy for part in parts)

    def backbone_features(self,
                          inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The FCN alone: backbone feature maps.

        Args:
            inputs (Tensor): Normalised images ``(N, 3, H, W)``.

        Returns:
            tuple[Tensor]: The backbone's outputs; the last is the feature
            map ``(N, C, h, w)`` MAN reads (512x7x7 for ResNet-18 at 224).
        """
        return self.extract_feat(inputs, stage='backbone')

    def logits_from_features(self, feats: Tuple[torch.Tensor,
                                                ...]) -> torch.Tensor:
        """MAN + AFN alone: backbone features -> class logits.

        Args:
            feats (tuple[Tensor]): Output of :meth:`backbone_features`.

        Returns:
            Tensor: Logits ``(N, num_classes)``.
        """
        return self.head(self.neck(feats))

    def attention_maps_from_features(
            self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Each head's spatial attention map from backbone features.

        Args:
            feats (tuple[Tensor]): Output of :meth:`backbone_features`.

        Returns:
            Tensor: ``(N, K, h, w)`` at the backbone's output resolution.
        """
        return self.neck.attention_maps(feats)

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class logits of normalised images (``mode='tensor'``).

        Args:
            inputs (Tensor): Normalised images ``(N, 3, H, W)``.

        Returns:
            Tensor: Logits ``(N, num_classes)``; softmax them for
            probabilities.
        """
        return self.logits_from_features(self.backbone_features(inputs))

    def attention_maps(self, inputs: torch.Tensor) -> torch.Tensor:
        """Each head's spatial attention map.

        Args:
            inputs (Tensor): Normalised images ``(N, 3, H, W)``.

        Returns:
            Tensor: ``(N, K, h, w)`` at the backbone's output resolution
            (7x7 for 224x224 inputs).
        """
        return self.attention_maps_from_features(
            self.backbone_features(inputs))
