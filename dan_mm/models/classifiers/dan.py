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
      :attr:`deploy`.

    ``extract_feat(inputs, stage='pre_logits')`` (mmpretrain's) gives the
    fused AFN feature ``(N, C)`` before the classifier.
    """

    def switch_to_deploy(self) -> None:
        """Fuse every part that supports it for fast inference (eval only).

        :attr:`deploy` is True afterwards; the change cannot be undone, so
        save the deploy checkpoint separately.
        """
        for part in (self.backbone, self.neck, self.head):
            if part is not None and hasattr(part, 'switch_to_deploy'):
                part.switch_to_deploy()

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
