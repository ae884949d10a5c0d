"""Folder-per-class data for fine-tuning: checks with one line each, and
the stratified, seeded hold-out split."""
import os
import os.path as osp

import numpy as np
import pytest
from fer_fixtures import make_class_folders
from fer_test_utils import error_lines
from tool_runner import run_tool

from dan_mm.datasets.class_folders import (class_folders, split_folders,
                                           stratified_split, write_split)
from dan_mm.utils.errors import DataError

CONFIG = 'configs/dan_r18_synthfer_finetune_folder.py'


def test_stratified_split():
    labels = [0] * 10 + [1] * 5 + [2] * 2
    train, val = stratified_split(labels, 0.2, seed=0)
    assert sorted(train + val) == list(range(len(labels)))
    counts = np.bincount(np.asarray(labels)[val])
    assert counts.tolist() == [2, 1, 1]  # every class, at least one
    assert stratified_split(labels, 0.2, seed=0) == (train, val)
    assert stratified_split(labels, 0.2, seed=1)[1] != val


def test_write_split(tmp_path):
    make_class_folders(str(tmp_path), 'faces', ['sad', 'happy'], 5, 16)
    root = str(tmp_path / 'faces')
    classes, train, val = write_split(root, str(tmp_path / 'split'), 0.2)
    assert classes == ('happy', 'sad')  # sorted, as CustomDataset
    lines = open(val).read().splitlines()
    assert len(lines) == 2 and not set(lines) & set(
        open(train).read().splitlines())
    assert {line.split()[1] for line in lines} == {'0', '1'}
    assert all(
        osp.isfile(osp.join(root,
                            line.rsplit(' ', 1)[0]))
        for line in lines + open(train).read().splitlines())
    assert split_folders(root) is None
    os.makedirs(tmp_path / 'split2' / 'Train')
    os.makedirs(tmp_path / 'split2' / 'val')
    assert split_folders(str(tmp_path / 'split2')) == ('Train', 'val')


def bad_folders(root):
    """A folder with one class, one with an empty class folder, one with a
    class of a single photo."""
    make_class_folders(root, 'one_class', ['happy'], 3, 16)
    make_class_folders(root, 'empty_class', ['happy', 'sad'], 3, 16)
    for name in os.listdir(osp.join(root, 'empty_class', 'sad')):
        os.remove(osp.join(root, 'empty_class', 'sad', name))
    make_class_folders(root, 'single_photo', ['happy', 'sad'], 3, 16)
    os.remove(osp.join(root, 'single_photo', 'sad', '0.png'))
    os.remove(osp.join(root, 'single_photo', 'sad', '1.png'))
    return {
        'one_class': '1 class folder(s) (happy)',
        'empty_class': 'sad has 0 image(s)',
        'single_photo': 'sad has 1 image(s)',
    }


def test_bad_folders(tmp_path):
    for name, message in bad_folders(str(tmp_path)).items():
        with pytest.raises(
                DataError, match=message.replace('(',
                                                 r'\(').replace(')', r'\)')):
            class_folders(str(tmp_path / name))


def test_bad_folders_one_line(tmp_path):
    """tools/train.py stops with one error line, before building a model."""
    for name, message in bad_folders(str(tmp_path)).items():
        code, _, err = run_tool('tools/train.py', CONFIG, '--work-dir',
                                str(tmp_path / 'work'), '--cfg-options',
                                f'data_root={tmp_path / name}')
        assert code == 1
        (line, ) = error_lines(err)
        assert message in line, line
