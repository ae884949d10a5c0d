"""Starting a fine-tune from a checkpoint whose classes differ: the head's
rows follow the classes by expression name."""
import json
import os.path as osp

import pytest
import torch
from fer_fixtures import make_class_folders
from fer_test_utils import build_model, save_checkpoint
from tool_runner import REPO

from dan_mm.engine import build_runner
from dan_mm.engine.hooks.class_match_hook import remap_class_rows
from dan_mm.utils.config import load_config

CONFIG = osp.join(REPO, 'configs', 'dan_r18_synthfer_finetune_folder.py')
# The checkpoint's classes, and the folders': happy is renamed (Happiness),
# Contempt is missing from the folders, confused is new.
CKPT_CLASSES = ('Surprise', 'Happiness', 'Contempt', 'Sadness')
DATA_CLASSES = ('confused', 'happy', 'sad', 'surprise')
KEPT = {'happy': 'Happiness', 'sad': 'Sadness', 'surprise': 'Surprise'}
# Tensors with one row per class.
ROWS = ('head.fc.weight', 'head.fc.bias', 'head.bn.weight', 'head.bn.bias',
        'head.affinity_loss.centers')


def test_remap_class_rows():
    start = build_model(num_classes=4).state_dict()
    fresh = build_model(seed=1, num_classes=4).state_dict()
    state = {k: v.clone() for k, v in start.items()}
    report = remap_class_rows(state, fresh, CKPT_CLASSES, DATA_CLASSES)
    assert report['kept'] == [(d, KEPT[d]) for d in DATA_CLASSES[1:]]
    assert report['new'] == ['confused'] and report['dropped'] == ['Contempt']
    assert set(ROWS) <= set(report['keys'])
    for key in ROWS:
        for d, c in KEPT.items():
            assert torch.equal(state[key][DATA_CLASSES.index(d)],
                               start[key][CKPT_CLASSES.index(c)]), key
        assert torch.equal(state[key][0], fresh[key][0]), key  # new class
    # Everything else is the checkpoint's
    assert all(
        torch.equal(state[k], start[k]) for k in start
        if k not in report['keys'])


@pytest.mark.slow
def test_finetune_keeps_known_rows(tmp_path):
    """A tiny fine-tune (learning rate 0) from a checkpoint with its classes
    in another order ends with the checkpoint's rows, by value, in the
    folders' order; the run reports start and tuned scores."""
    start = build_model(num_classes=4)
    checkpoint = save_checkpoint(start, tmp_path / 'start.pth', CKPT_CLASSES)
    make_class_folders(str(tmp_path), 'faces', DATA_CLASSES, 3, 32)
    cfg = load_config(CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.data_root = str(tmp_path / 'faces')
    cfg.load_from = checkpoint
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = None
    cfg.optim_wrapper.optimizer.lr = 0
    cfg.default_hooks.checkpoint = None
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.batch_size, loader.num_workers = 4, 0
        loader.persistent_workers = False
    runner = build_runner(cfg, 'train')
    runner.train()
    tuned = runner.model.state_dict()
    source = start.state_dict()
    for key in ROWS:
        for d, c in KEPT.items():
            assert torch.equal(tuned[key][DATA_CLASSES.index(d)],
                               source[key][CKPT_CLASSES.index(c)]), key
    assert list(runner.train_dataloader.dataset.metainfo['classes']) == list(
        DATA_CLASSES)
    split = open(osp.join(cfg.work_dir, 'split', 'val.txt')).read()
    assert len(split.splitlines()) == 4  # one face of each class held out
    scores = json.load(open(osp.join(cfg.work_dir, 'start_vs_tuned.json')))
    assert scores['load_from'] == checkpoint
    assert 'fer/top1' in scores['start'] and 'fer/top1' in scores['tuned']
