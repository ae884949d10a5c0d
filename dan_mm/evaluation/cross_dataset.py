"""Test a model trained on one FER data set on another's test split."""
import copy
from typing import Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.runner.checkpoint import CheckpointLoader

from dan_mm.datasets.utils import dataset_classes
from dan_mm.utils.errors import ConfigError


def model_classes(cfg: Config,
                  checkpoint: Optional[str] = None) -> Tuple[str, ...]:
    """The classes a config's model predicts, in its output order.

    The config's own test data set names them (read without its data); a
    ``CustomDataset`` without ``classes`` leaves it to the checkpoint's
    ``meta['dataset_meta']['classes']``, which mmengine writes when it
    trains.

    Args:
        cfg (Config): The model's config.
        checkpoint (str, optional): Its checkpoint, the fallback.

    Returns:
        tuple[str]: The class names.

    Raises:
        ConfigError: Neither names them.
    """
    classes = dataset_classes(cfg.test_dataloader.dataset)
    if classes is None and checkpoint is not None:
        meta = CheckpointLoader.load_checkpoint(
            checkpoint, map_location='cpu').get('meta') or {}
        classes = (meta.get('dataset_meta') or {}).get('classes')
    if not classes:
        raise ConfigError(
            'cannot tell which classes the model predicts: give its test '
            'data set classes=[...] in the config')
    return tuple(classes)


def cross_dataset_config(cfg: Config, data_cfg: Config,
                         classes: Sequence[str]) -> Config:
    """Make ``cfg`` test its model on ``data_cfg``'s test split.

    The test data set (type, root, split, files) becomes ``data_cfg``'s, fed
    through ``cfg``'s own test pipeline (the input the model was trained
    on), and the evaluator a :class:`~dan_mm.evaluation.FERMetric` with
    ``model_classes=classes``, which matches the classes by name.

    Args:
        cfg (Config): The model's config; changed in place.
        data_cfg (Config): A config of the data set to test on.
        classes (Sequence[str]): The model's classes (:func:`model_classes`).

    Returns:
        Config: ``cfg``.
    """
    if data_cfg.get('test_dataloader') is None:
        raise ConfigError(f'{data_cfg.filename} has no test_dataloader to '
                          'test on')
    loader = copy.deepcopy(cfg.test_dataloader)
    loader.dataset = copy.deepcopy(data_cfg.test_dataloader.dataset)
    loader.dataset.pipeline = copy.deepcopy(
        cfg.test_dataloader.dataset.get('pipeline', []))
    cfg.test_dataloader = loader
    cfg.test_evaluator = dict(type='FERMetric', model_classes=list(classes))
    return cfg
