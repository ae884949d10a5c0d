"""Small helpers shared by the command-line tools."""
import os.path as osp
import sys
from typing import Callable, Optional

import torch
from mmengine.config import Config, ConfigDict


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load a config file and merge ``--cfg-options`` into it.

    Exits with one clear line if the file is missing.
    """
    if not osp.isfile(path):
        sys.exit(f'error: config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def set_work_dir(cfg: Config, work_dir: Optional[str], config: str) -> None:
    """``--work-dir``, else the config's, else ``work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])


def set_dataloader_defaults(cfg: Config, field: str, pin_memory: bool = True,
                            persistent_workers: bool = True) -> None:
    """Fill mmpretrain's dataloader defaults into ``cfg[field]``.

    Unlike mmpretrain's tools, ``persistent_workers`` is only turned on when
    the loader has workers (PyTorch refuses it with ``num_workers=0``), and
    pinned memory only when there is a GPU to pin for.
    """
    loader = cfg.get(field, None)
    if loader is None:
        return
    defaults = ConfigDict(
        collate_fn=dict(type='default_collate'),
        pin_memory=pin_memory and torch.cuda.is_available(),
        persistent_workers=persistent_workers)
    defaults.update(loader)
    if defaults.get('num_workers', 0) == 0:
        defaults.persistent_workers = False
    cfg[field] = defaults


def amp_optim_wrapper(optim_wrapper: ConfigDict) -> ConfigDict:
    """Turn an optimiser wrapper config into mixed precision.

    fp16 with dynamic loss scaling on GPU; bf16 on CPU, where fp16 autocast
    is not supported and bf16 needs no loss scaling.
    """
    optim_wrapper = ConfigDict(optim_wrapper)
    if torch.cuda.is_available():
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        # mmengine's AmpOptimWrapper refuses to run without an accelerator.
        optim_wrapper.type = 'BF16AmpOptimWrapper'
        optim_wrapper.setdefault('dtype', 'bfloat16')
    return optim_wrapper


def run_or_exit(run: Callable, checkpoint: str = None):
    """Call ``run()``; a config that disagrees with its data or checkpoint
    ends the program with one line naming the fix, not a traceback.

    Args:
        run (Callable): e.g. ``runner.train``.
        checkpoint (str, optional): The checkpoint being loaded, for the
            message.

    Returns:
        Whatever ``run()`` returns.
    """
    from dan_mm.engine.hooks import NumClassesMismatchError
    from .errors import CheckpointMismatchError
    try:
        return run()
    except NumClassesMismatchError as err:
        sys.exit(f'error: {err}')
    except CheckpointMismatchError as err:
        sys.exit(f'error: cannot load checkpoint {checkpoint}: {err}')
