"""What a training or test run changes in its config: mixed precision,
TensorBoard, the visualization hook, test-time augmentation."""
import copy
import logging
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from ..utils.errors import ConfigError, MissingExtraError


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


def enable_tensorboard(cfg: Config) -> None:
    """Log scalars, confusion matrices and attention panels to TensorBoard.

    Adds ``TensorboardVisBackend`` to the visualizer's backends (next to the
    others) and switches :class:`~dan_mm.engine.hooks.FERVisualizationHook`
    on (added as ``default_hooks.fer_visualization`` if the config has no
    such hook).

    Raises:
        MissingExtraError: The ``tensorboard`` package is missing.
    """
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise MissingExtraError('--tensorboard needs the tensorboard package: '
                                'pip install "dan_mm[tensorboard]" (or -r '
                                'requirements/tensorboard.txt)') from None
    visualizer = cfg.get('visualizer') or ConfigDict(
        type='UniversalVisualizer')
    backends = list(visualizer.get('vis_backends') or [])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer.vis_backends = backends
    cfg.visualizer = visualizer
    hooks = cfg.get('default_hooks') or ConfigDict()
    hook = hooks.get('fer_visualization') or ConfigDict(
        type='FERVisualizationHook')
    hook.enable = True
    hooks.fer_visualization = hook
    cfg.default_hooks = hooks


def enable_visualization(cfg: Config,
                         show: bool = False,
                         out_dir: Optional[str] = None,
                         interval: int = 1,
                         wait_time: float = 2) -> None:
    """Draw test predictions, as mmpretrain's ``tools/test.py --show`` /
    ``--show-dir`` do: switch the config's ``VisualizationHook``
    (``default_hooks.visualization``) on with these settings.

    Args:
        cfg (Config): The test config; changed in place.
        show (bool): Show each drawn image in a window.
        out_dir (str, optional): Save the drawn images in this folder.
        interval (int): Draw every ``interval``-th test sample.
        wait_time (float): Seconds each window stays open.

    Raises:
        ConfigError: The config has no ``default_hooks.visualization``.
    """
    hooks = cfg.get('default_hooks') or {}
    if 'visualization' not in hooks:
        raise ConfigError(
            'default_hooks.visualization: --show and --show-dir need '
            'mmpretrain\'s VisualizationHook there; add default_hooks = '
            'dict(visualization=dict(type="VisualizationHook")) to the config')
    hook = hooks['visualization']
    hook.enable = True
    hook.show = show
    hook.wait_time = wait_time
    hook.out_dir = out_dir
    hook.interval = interval


def apply_tta(cfg: Config) -> None:
    """Test with test-time augmentation, the way mmpretrain's tool does.

    Wraps ``cfg.model`` in ``cfg.tta_model`` (default: mmpretrain's
    ``AverageClsScoreTTA``, the mean of the softmax scores) and tests with
    ``cfg.tta_pipeline`` (default: the test pipeline with a horizontal flip
    and no flip of each image). A ``tta_pipeline`` whose first steps differ
    from the test pipeline's is logged: a config that changes
    ``test_pipeline`` must restate ``tta_pipeline`` too.

    Args:
        cfg (Config): The test config; changed in place.
    """
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        cfg.tta_pipeline = copy.deepcopy(test_pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
                dict(type='RandomFlip', prob=0.0, direction='horizontal')
            ], [test_pipeline[-1]]])
    elif list(cfg.tta_pipeline[:-1]) != list(test_pipeline[:-1]):
        print_log(
            'tta_pipeline does not start with the steps of '
            'test_dataloader.dataset.pipeline (another image size?); it is '
            'used as it is',
            logger='current',
            level=logging.WARNING)
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
