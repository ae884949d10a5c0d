"""The runner of ``configs/dan_r18_finetune_folder.py``: fine-tune on a
folder of faces with one subfolder per expression."""
import copy
import logging
import os.path as osp

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..datasets.class_folders import class_folders, split_folders, write_split
from ..utils.errors import ConfigError, DataError


def folder_dataset(base: dict, root: str, classes, **kwargs) -> dict:
    """A ``CustomDataset`` config on ``root`` with the pipeline of
    ``base`` (a data set config)."""
    return dict(
        type='CustomDataset',
        data_root=root,
        classes=list(classes),
        pipeline=copy.deepcopy(base.get('pipeline', [])),
        **kwargs)


def prepare_folder_finetune(cfg: Config) -> Config:
    """Point a fine-tuning config's data sets at ``cfg.data_root``.

    ``data_root`` holds one folder per class (``happy/``, ``sad/``, ...), or
    ``train/`` and ``val/`` folders that each do. Without ``val/``, a
    stratified ``cfg.val_fraction`` of every class (seed
    ``cfg.split_seed``) is held out, and the split is written to
    ``work_dir/split/{train,val}.txt``. The train, val and test data sets
    become ``CustomDataset`` on those files (test = val), and the model's
    ``num_classes`` the number of folders. The classes are the folder
    names; :class:`~dan_mm.engine.hooks.ClassMatchHook` matches them to the
    ``load_from`` checkpoint's by name.

    Args:
        cfg (Config): The merged config (``work_dir`` set); changed in
            place.

    Returns:
        Config: ``cfg``.

    Raises:
        DataError: The folder is missing, has fewer than two classes, or a
            class with fewer than two images.
    """
    root = cfg.get('data_root')
    if not root:
        raise ConfigError('data_root: give the folder of faces, one '
                          'subfolder per expression (data_root=PATH)')
    split = split_folders(root)
    train_base = cfg.train_dataloader.dataset
    val_base = cfg.val_dataloader.dataset
    if split is not None:
        train_dir, val_dir = split
        classes = tuple(class_folders(osp.join(root, train_dir)))
        val_classes = tuple(class_folders(osp.join(root, val_dir)))
        if val_classes != classes:
            raise DataError(
                f'{osp.join(root, val_dir)} has the classes '
                f'{", ".join(val_classes)} but {osp.join(root, train_dir)} '
                f'has {", ".join(classes)}: give both the same folders')
        train = folder_dataset(
            train_base, root, classes, data_prefix=train_dir)
        val = folder_dataset(val_base, root, classes, data_prefix=val_dir)
        how = f'{train_dir}/ and {val_dir}/'
    else:
        classes, train_file, val_file = write_split(
            root, osp.join(cfg.work_dir, 'split'),
            cfg.get('val_fraction', 0.2), cfg.get('split_seed', 0))
        train = folder_dataset(
            train_base, root, classes, ann_file=osp.abspath(train_file))
        val = folder_dataset(
            val_base, root, classes, ann_file=osp.abspath(val_file))
        how = (f'held out {cfg.get("val_fraction", 0.2):.0%} of each class '
               f'(split in {osp.dirname(train_file)})')
    cfg.train_dataloader.dataset = train
    cfg.val_dataloader.dataset = val
    cfg.test_dataloader.dataset = copy.deepcopy(val)
    cfg.model.head.num_classes = len(classes)
    for preprocessor in (cfg.get('data_preprocessor'),
                         cfg.model.get('data_preprocessor')):
        if preprocessor is not None and 'num_classes' in preprocessor:
            preprocessor.num_classes = len(classes)
    print_log(
        f'Fine-tuning on {root}: {len(classes)} classes '
        f'({", ".join(classes)}), {how}',
        logger='current')
    if not cfg.get('load_from') and not cfg.get('resume'):
        print_log(
            'No load_from: training from the config\'s initialisation, not '
            'fine-tuning; set load_from to the checkpoint to start from',
            logger='current',
            level=logging.WARNING)
    return cfg


@RUNNERS.register_module()
class FolderFinetuneRunner(Runner):
    """mmengine's Runner on a folder-per-class data set
    (:func:`prepare_folder_finetune` before building)."""

    @classmethod
    def from_cfg(cls, cfg: Config) -> Runner:
        """Prepare the data sets of ``cfg``, then build as mmengine does."""
        cfg = copy.deepcopy(cfg)
        return super().from_cfg(prepare_folder_finetune(cfg))
