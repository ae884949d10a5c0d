"""The PyTorch model as the classifier of face crops (the only backend with
attention maps: scores and maps come from one backbone pass)."""
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..utils.errors import ConfigError
from ..utils.precision import autocast
from .prepare import inference_inputs


class TorchBackend:
    """Classify normalised face crops with the PyTorch model.

    Args:
        model (nn.Module): A model put into its inference form by
            :func:`~dan_mm.runtime.prepare_for_inference`.
        precision (str): Autocast precision (``'fp32'``, ``'fp16'``,
            ``'bf16'``). Defaults to ``'fp32'``.
    """

    name = 'pytorch'

    def __init__(self, model: nn.Module, precision: str = 'fp32') -> None:
        self.model = model
        self.precision = precision

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def __call__(
            self,
            inputs: torch.Tensor,
            return_maps: bool = False
    ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Class probabilities (and attention maps) of a batch.

        Args:
            inputs (torch.Tensor): ``(N, 3, H, W)`` normalised crops.
            return_maps (bool): Also every head's spatial attention map.

        Returns:
            tuple: ``scores`` ``(N, num_classes)`` float32 probabilities and
            ``maps`` ``(N, K, h, w)`` (None without ``return_maps``).
        """
        inputs = inference_inputs(self.model, inputs.to(self.device))
        maps = None
        with autocast(self.device, self.precision):
            if return_maps:
                if not hasattr(self.model, 'attention_maps_from_features'):
                    raise ConfigError(
                        f'return_maps=True: {type(self.model).__name__} has '
                        'no attention maps; use model type "DAN"')
                # One backbone pass for both.
                feats = self.model.backbone_features(inputs)
                logits = self.model.logits_from_features(feats)
                maps = self.model.attention_maps_from_features(feats)
            else:
                logits = self.model(inputs, mode='tensor')
        scores = logits.float().softmax(dim=1).cpu().numpy()
        return scores, None if maps is None else maps.float().cpu().numpy()
