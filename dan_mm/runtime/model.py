"""Build a model from a config and a checkpoint: the one place that calls
mmpretrain's ``get_model`` in dan_mm.

:func:`load_model` is what every caller goes through (the inferencer, the
benchmarks, the ONNX export, the int8 quantizer, the reparameterizer). Its
first step, :func:`resolve_model`, turns what the caller gave into a config
and a checkpoint; model names are resolved there.
"""
import copy
import os.path as osp
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config

from ..engine.pretrained import drop_pretrained
from ..utils.cli import check_checkpoint_file, naming_checkpoint
from ..utils.config import naming_config_keys
from ..utils.errors import ConfigError
from ..utils.log import quiet_mmengine_log

ModelSpec = Union[str, Config]


def resolve_model(
    model: ModelSpec,
    checkpoint: Optional[str] = None
) -> Tuple[Union[str, Config], Optional[str]]:
    """The config and checkpoint that ``model`` and ``checkpoint`` stand for.

    This is where a model name (a released model) is resolved into its
    config and its downloaded checkpoint; a config path or a
    :class:`~mmengine.config.Config` passes through.

    Args:
        model (str | Config): A config path or a loaded config.
        checkpoint (str, optional): A checkpoint path (or URL).

    Returns:
        tuple: ``(config, checkpoint)``.

    Raises:
        ConfigError: ``model`` is a path that does not exist.
    """
    if isinstance(model, str) and not osp.isfile(model):
        raise ConfigError(f'config file not found: {model}')
    return model, checkpoint


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
