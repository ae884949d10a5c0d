"""Let ``--launcher pytorch`` run on machines without a GPU (gloo, CPU DDP).

mmengine 0.10.7 cannot start a CPU-only distributed run by itself: its
``init_dist`` always calls ``torch.cuda.set_device`` and its default
``MMDistributedDataParallel`` wrapper passes ``device_ids=[LOCAL_RANK]``,
which PyTorch refuses for a CPU module. CPU DDP is slow; it is meant for
tests and debugging of multi-process code paths.
"""
import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict


def setup_cpu_distributed(cfg: Config) -> None:
    """Prepare a CPU-only run with ``launcher='pytorch'`` for mmengine.

    Does nothing when a GPU is visible or the run is not launched with
    torchrun (``launcher != 'pytorch'``). Otherwise it joins the process
    group with the gloo backend from torchrun's environment (so the runner
    skips its CUDA-only initialisation), records ``gloo`` in
    ``cfg.env_cfg.dist_cfg`` and builds ``MMDistributedDataParallel``
    without ``device_ids``, unless the config sets a ``model_wrapper_cfg``.

    Args:
        cfg (Config): The run's config, with ``launcher`` set.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return
    cfg.setdefault('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg', None) is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None)
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo', init_method='env://')
