"""Build a model from a config and a checkpoint: the one place that calls
mmpretrain's ``get_model`` in dan_mm.

:func:`load_model` is what every caller goes through (the inferencer, the
benchmarks, the ONNX export, the int8 quantizer, the reparameterizer). Its
first step, :func:`resolve_model`, turns what the caller gave into a config
and a checkpoint; model names are resolved there (through
:mod:`dan_mm.zoo`, which downloads and caches the weights).
"""
import copy
import os
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config

from ..engine.pretrained import drop_pretrained
from ..utils.cli import check_checkpoint_file, naming_checkpoint
from ..utils.config import naming_config_keys
from ..utils.log import quiet_mmengine_log
from ..zoo import cached_checkpoint
from ..zoo import resolve_model as zoo_resolve_model

ModelSpec = Union[str, Config]


def resolve_model(
    model: ModelSpec,
    checkpoint: Optional[str] = None
) -> Tuple[Union[str, Config], Optional[str]]:
    """The config and checkpoint that ``model`` and ``checkpoint`` stand for.

    This is where a model name (one of the DAN authors' released models,
    :func:`dan_mm.zoo.model_names`) is resolved into its config and its
    checkpoint, downloaded once into dan_mm's cache; a checkpoint URL is
    fetched into the same cache; a config path or a
    :class:`~mmengine.config.Config` passes through
    (:func:`dan_mm.zoo.resolve_model`).

    Args:
        model (str | Config): A model name, a config path or a loaded
            config.
        checkpoint (str, optional): A checkpoint path or URL (for a name:
            instead of its weights).

    Returns:
        tuple: ``(config, checkpoint)``, the checkpoint a local file.

    Raises:
        ConfigError: ``model`` is neither a config file nor a model name.
        CheckpointDownloadError: The weights cannot be downloaded.
    """
    progress = os.isatty(2)
    if isinstance(model, Config):
        if checkpoint and '://' in str(checkpoint):
            checkpoint = cached_checkpoint(str(checkpoint), progress=progress)
        return model, checkpoint
    return zoo_resolve_model(str(model), checkpoint, progress=progress)


def load_model(model: ModelSpec,
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device, None] = 'cpu',
               init_weights: bool = False) -> nn.Module:
    """Build the model of a config and load a checkpoint into it.

    mmengine's log stays quiet while the model is built (its init logs
    every parameter); errors name the config key or the checkpoint that
    caused them.

    Args:
        model (str | Config): A config path or a loaded config (see
            :func:`resolve_model`).
        checkpoint (str, optional): The weights. Without one the weights
            are random and the config's pretrained start is not read.
        device (str | torch.device, optional): Where the model goes.
            Defaults to ``'cpu'``.
        init_weights (bool): Without ``checkpoint``, run the model's
            ``init_weights()`` (mmengine's init) instead of keeping torch's
            default init. Defaults to False.

    Returns:
        nn.Module: The model, in eval mode, with its config as
        ``model._config`` (as mmpretrain's ``get_model`` sets it).

    Raises:
        ConfigError: A config that does not build.
        CheckpointError: ``checkpoint`` is missing or does not fit.
    """
    from mmpretrain.apis import get_model
    cfg, checkpoint = resolve_model(model, checkpoint)
    check_checkpoint_file(checkpoint)
    if isinstance(cfg, str):
        cfg = Config.fromfile(cfg)
    if not checkpoint:
        cfg = copy.deepcopy(cfg)
        drop_pretrained(cfg.model)  # random weights need no pretrained start
    with quiet_mmengine_log(), naming_config_keys(cfg), \
            naming_checkpoint(checkpoint):
        built = get_model(cfg, pretrained=checkpoint or False, device=device)
        if not checkpoint and init_weights:
            built.init_weights()
    return built.eval()
