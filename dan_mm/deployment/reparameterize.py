"""A DAN checkpoint in its deploy form (fused attention heads).

As mmpretrain's ``tools/model_converters/reparameterize_model.py``: the
model is built from the config, loaded from the checkpoint,
:func:`~dan_mm.runtime.prepare_for_inference` (``deploy=True``, through
``switch_to_deploy()``) fuses each head's conv+BN branches into one 3x3 conv,
its 1x1 conv+BN into one conv, the K heads into grouped layers, and the
state dict is saved. Load it with ``--cfg-options model.neck.deploy=True``.
"""
import os
import os.path as osp

import torch
from mmengine.config import Config

from ..runtime import load_model, prepare_for_inference
from ..utils.checkpoint import load_checkpoint_file
from ..utils.cli import check_checkpoint_file
from ..utils.errors import ConfigError


def reparameterize_checkpoint(cfg: Config, checkpoint: str, out: str,
                              config: str) -> None:
    """Fuse the heads of ``checkpoint`` and save the deploy form to ``out``.

    Args:
        cfg (Config): The (training-form) model's config.
        checkpoint (str): The checkpoint to convert.
        out (str): The deploy checkpoint to write (``meta.deploy=True``).
        config (str): The config's file name, for messages.

    Raises:
        ConfigError: The config already builds the deploy form, or its
            model cannot switch to it.
        CheckpointError: ``checkpoint`` is missing or does not fit.
    """
    check_checkpoint_file(checkpoint, 'the CHECKPOINT argument')
    if cfg.model.neck.get('deploy', False):
        raise ConfigError(f'{config} already builds model.neck.deploy='
                          'True; give the training-form config')
    model = prepare_for_inference(load_model(cfg, checkpoint), deploy=True)
    loaded = load_checkpoint_file(checkpoint, map_location='cpu')
    meta = dict(loaded.get('meta') or {}, deploy=True)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save({'meta': meta, 'state_dict': model.state_dict()}, out)
