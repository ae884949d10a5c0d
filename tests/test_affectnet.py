import logging
import os.path as osp

import numpy as np
import pytest
from fer_fixtures import make_affectnet_folders, make_affectnet_official
from mmengine.logging import MMLogger

from dan_mm.datasets import AffectNet
from dan_mm.datasets.categories import AFFECTNET_CATEGORIES

# Every raw label once, including the never-used 8 (None), 9, 10.
RAW = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 3]


def labels_by_name(ds):
    return {
        osp.basename(ds.get_data_info(i)['img_path']):
        ds.get_data_info(i)['gt_label']
        for i in range(len(ds))
    }


@pytest.mark.parametrize('num_classes', [8, 7])
def test_official_layout_labels_and_skips(tmp_path, num_classes):
    make_affectnet_official(str(tmp_path), {'train': RAW, 'val': [7, 2]})
    ds = AffectNet(str(tmp_path), split='train', num_classes=num_classes)
    kept = [label for label in RAW if label < num_classes]
    # <id>.jpg is read with the label of <id>_exp.npy (a 0-d string array).
    assert labels_by_name(ds) == {
        f'{i}.jpg': label
        for i, label in enumerate(RAW) if label < num_classes
    }
    assert sorted(ds.get_gt_labels().tolist()) == sorted(kept)
    assert ds.metainfo['classes'] == AFFECTNET_CATEGORIES[:num_classes]
    expected_skips = {'None': 1, 'Uncertain': 1, 'No-face': 1}
    if num_classes == 7:
        expected_skips['Contempt'] = 1
    assert ds.skipped == expected_skips
    assert not ds.test_mode
    val = AffectNet(str(tmp_path), split='val', num_classes=num_classes)
    assert val.test_mode
    assert val.get_gt_labels().tolist() == ([7, 2]
                                            if num_classes == 8 else [2])


def test_skip_count_is_logged(tmp_path):
    make_affectnet_official(str(tmp_path), {'train': RAW})
    logger = MMLogger.get_instance('affectnet_skip_log', log_level='INFO')
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append(record.getMessage())

    handler = Collect()
    logger.addHandler(handler)
    try:
        AffectNet(str(tmp_path), num_classes=7)
    finally:
        logger.removeHandler(handler)
    assert any('skipped 4 images' in m and 'Contempt: 1' in m
               for m in records), records


def test_folder_layout_matches_official(tmp_path):
    make_affectnet_folders(str(tmp_path / 'f'), {'train': RAW})
    ds = AffectNet(str(tmp_path / 'f'), split='train', num_classes=8)
    assert sorted(ds.get_gt_labels().tolist()) == sorted(label for label in RAW
                                                         if label < 8)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        # the folder name is the label
        assert osp.basename(osp.dirname(info['img_path'])) == str(
            info['gt_label'])


def test_csv_manifest_with_affectnet_header(tmp_path):
    make_affectnet_folders(str(tmp_path), {'train': [0, 5, 7, 9]})
    (tmp_path / 'training.csv').write_text(
        'subDirectory_filePath,face_x,expression,valence\n'
        'train/0/img0.jpg,1,0,0.1\n'
        'train/5/img1.jpg,1,5,0.1\n'
        'train/7/img2.jpg,1,7,0.1\n'
        'train/9/img3.jpg,1,9,0.1\n')
    ds = AffectNet(str(tmp_path), ann_file='training.csv', num_classes=7)
    assert ds.get_gt_labels().tolist() == [0, 5]
    assert ds.get_data_info(1)['img_path'].endswith('train/5/img1.jpg')


def test_csv_manifest_without_header(tmp_path):
    make_affectnet_folders(str(tmp_path), {'val': [3, 4]})
    (tmp_path / 'm.csv').write_text('val/3/img0.jpg,3\nval/4/img1.jpg,4\n')
    ds = AffectNet(str(tmp_path), split='val', ann_file='m.csv')
    assert ds.get_gt_labels().tolist() == [3, 4]


@pytest.mark.parametrize('label, message', [
    ('happy', 'm.csv:3: label "happy" is not an integer'),
    ('11', "m.csv:3: label 11 is outside AffectNet's 0..10"),
])
def test_csv_bad_label_names_file_and_line(tmp_path, label, message):
    make_affectnet_folders(str(tmp_path), {'train': [1, 1]})
    (tmp_path / 'm.csv').write_text(
        f'path,expression\ntrain/1/img0.jpg,1\ntrain/1/img1.jpg,{label}\n')
    with pytest.raises(ValueError, match=message):
        AffectNet(str(tmp_path), ann_file='m.csv')


def test_csv_missing_image_names_line(tmp_path):
    make_affectnet_folders(str(tmp_path), {'train': [1]})
    (tmp_path /
     'm.csv').write_text('path,label\ntrain/1/img0.jpg,1\nnope.jpg,1\n')
    with pytest.raises(FileNotFoundError, match=r'm.csv:3: image .*nope.jpg'):
        AffectNet(str(tmp_path), ann_file='m.csv')
    ds = AffectNet(str(tmp_path), ann_file='m.csv', skip_missing=True)
    assert len(ds) == 1
    (tmp_path / 'm.csv').write_text('path,label\ntrain/1/img0.jpg,9\n')
    with pytest.raises(ValueError, match='no images left'):
        AffectNet(str(tmp_path), ann_file='m.csv')


def test_official_bad_annotation_is_named(tmp_path):
    make_affectnet_official(str(tmp_path), {'train': [1, 2]})
    ann = tmp_path / 'train_set' / 'annotations' / '1_exp.npy'
    np.save(str(ann), np.array('12'))
    with pytest.raises(ValueError, match=r'1_exp.npy: label 12 is outside'):
        AffectNet(str(tmp_path))
    ann.unlink()
    with pytest.raises(FileNotFoundError, match=r'1_exp.npy \(the label of'):
        AffectNet(str(tmp_path))


def test_bad_arguments_and_missing_root(tmp_path):
    with pytest.raises(ValueError, match='num_classes must be 7 or 8'):
        AffectNet(str(tmp_path), num_classes=6)
    with pytest.raises(ValueError, match='split must be one of'):
        AffectNet(str(tmp_path), split='test')
    with pytest.raises(FileNotFoundError, match='found neither train_set'):
        AffectNet(str(tmp_path))
