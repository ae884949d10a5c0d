import logging
import os.path as osp

import numpy as np
import pytest
from fer_fixtures import make_affectnet_folders, make_affectnet_official
from mmengine.logging import MMLogger

from dan_mm.datasets import AffectNet
from dan_mm.datasets.categories import AFFECTNET_CATEGORIES
from dan_mm.utils.errors import ConfigError, DataError, DataNotFoundError

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
    (tmp_path / 'val.csv').write_text('val/3/img0.jpg,3\nval/4/img1.jpg,4\n')
    ds = AffectNet(str(tmp_path), split='val', ann_file='val.csv')
    assert ds.get_gt_labels().tolist() == [3, 4]


@pytest.mark.parametrize('label, message', [
    ('happy', 'train.csv:3: label "happy" is not an integer'),
    ('11', "train.csv:3: label 11 is outside AffectNet's 0..10"),
])
def test_csv_bad_label_names_file_and_line(tmp_path, label, message):
    make_affectnet_folders(str(tmp_path), {'train': [1, 1]})
    (tmp_path / 'train.csv').write_text(
        f'path,expression\ntrain/1/img0.jpg,1\ntrain/1/img1.jpg,{label}\n')
    with pytest.raises(DataError, match=message):
        AffectNet(str(tmp_path), ann_file='train.csv')


def test_csv_missing_image_names_line(tmp_path):
    make_affectnet_folders(str(tmp_path), {'train': [1]})
    (tmp_path / 'train_list.csv'
     ).write_text('path,label\ntrain/1/img0.jpg,1\nnope.jpg,1\n')
    with pytest.raises(
            DataNotFoundError, match=r'train_list.csv:3: image .*nope.jpg'):
        AffectNet(str(tmp_path), ann_file='train_list.csv')
    ds = AffectNet(str(tmp_path), ann_file='train_list.csv', skip_missing=True)
    assert len(ds) == 1
    (tmp_path /
     'train_list.csv').write_text('path,label\ntrain/1/img0.jpg,9\n')
    with pytest.raises(DataError, match='no images left'):
        AffectNet(str(tmp_path), ann_file='train_list.csv')


def test_official_bad_annotation_is_named(tmp_path):
    make_affectnet_official(str(tmp_path), {'train': [1, 2]})
    ann = tmp_path / 'train_set' / 'annotations' / '1_exp.npy'
    np.save(str(ann), np.array('12'))
    with pytest.raises(DataError, match=r'1_exp.npy: label 12 is outside'):
        AffectNet(str(tmp_path))
    ann.unlink()
    with pytest.raises(DataNotFoundError, match=r'1_exp.npy \(the label of'):
        AffectNet(str(tmp_path))


def test_bad_arguments_and_missing_root(tmp_path):
    with pytest.raises(ConfigError, match='num_classes must be 7 or 8'):
        AffectNet(str(tmp_path), num_classes=6)
    with pytest.raises(ConfigError, match='split must be one of'):
        AffectNet(str(tmp_path), split='test')
    with pytest.raises(DataNotFoundError, match='found neither train_set'):
        AffectNet(str(tmp_path))
    with pytest.raises(
            DataNotFoundError,
            match=r'AffectNet: data root \S+/nowhere does not exist; put or '
            r'link the data set there'):
        AffectNet(str(tmp_path / 'nowhere'))


def test_csv_split_column_selects_each_splits_rows(tmp_path):
    """The reference's affectnet.csv: pandas' index column, then phase,
    img_path, label; paths relative to where it was written."""
    make_affectnet_official(str(tmp_path), {'train': [0, 1, 7], 'val': [2, 3]})
    rows = [('train', 'train_set/images/0.jpg', 0),
            ('val', 'val_set/images/0.jpg', 2),
            ('train', 'train_set/images/1.jpg', 1),
            ('val', 'val_set/images/1.jpg', 3),
            ('train', 'train_set/images/2.jpg', 7)]
    (tmp_path /
     'affectnet.csv').write_text(',phase,img_path,label\n' + ''.join(
         f'{i},{phase},{path},{label}\n'
         for i, (phase, path, label) in enumerate(rows)))
    train = AffectNet(str(tmp_path), ann_file='affectnet.csv', num_classes=7)
    val = AffectNet(str(tmp_path), split='val', ann_file='affectnet.csv')
    assert train.get_gt_labels().tolist() == [0, 1]  # Contempt skipped
    assert val.get_gt_labels().tolist() == [2, 3]
    assert [
        osp.relpath(val.get_data_info(i)['img_path'], tmp_path)
        for i in range(2)
    ] == ['val_set/images/0.jpg', 'val_set/images/1.jpg']
    assert not train.test_mode and val.test_mode
    # 'Usage'/'split' columns and the long value names work the same way
    (tmp_path / 'm.csv').write_text(
        'path,label,Usage\ntrain_set/images/0.jpg,0,Training\n'
        'val_set/images/1.jpg,3,Validation\n')
    assert AffectNet(
        str(tmp_path), split='val',
        ann_file='m.csv').get_gt_labels().tolist() == [3]


@pytest.mark.parametrize('name,split,message', [
    ('m.csv', 'train', r'm.csv has no split column .* and its name does not '
     r'say which split it holds, so train and val would read the same rows; '
     r'give each split its own file'),
    ('training.csv', 'val', r'AffectNet split="val" reads \S+training.csv, '
     r'which is named for the train split'),
])
def test_csv_without_split_column_must_be_named_for_its_split(
        tmp_path, name, split, message):
    make_affectnet_folders(str(tmp_path), {'train': [1]})
    (tmp_path / name).write_text('path,label\ntrain/1/img0.jpg,1\n')
    with pytest.raises(ConfigError, match=message) as info:
        AffectNet(str(tmp_path), split=split, ann_file=name)
    assert 'validation.csv' in str(info.value)  # says how to fix it
    assert '\n' not in str(info.value)


def test_csv_bad_split_value_names_line(tmp_path):
    make_affectnet_folders(str(tmp_path), {'train': [1]})
    (tmp_path / 'a.csv').write_text('phase,path,label\n'
                                    'train,train/1/img0.jpg,1\n'
                                    'test,train/1/img0.jpg,1\n')
    with pytest.raises(
            DataError,
            match=r'a.csv:3: split "test" is not one '
            r'of train, training, val'):
        AffectNet(str(tmp_path), ann_file='a.csv')
    (tmp_path / 'a.csv').write_text('phase,path,label\n'
                                    'train,train/1/img0.jpg,1\n')
    with pytest.raises(DataError, match=r'a.csv: no rows of split "val"'):
        AffectNet(str(tmp_path), split='val', ann_file='a.csv')


def official_csv(tmp_path, boxes):
    """AffectNet's training.csv over whole photos: a SynthFER face pasted
    at each box into a grey 120x90 picture."""
    from fer_fixtures import face
    from PIL import Image
    lines = [
        'subDirectory_filePath,face_x,face_y,face_width,face_height,'
        'facial_landmarks,expression,valence,arousal'
    ]
    faces = []
    for i, (x, y, w, h) in enumerate(boxes):
        photo = np.full((90, 120, 3), 128, np.uint8)
        img = face(i, i, size=64)[:h, :w]
        photo[y:y + h, x:x + w] = img
        faces.append(img)
        (tmp_path / '1').mkdir(exist_ok=True)
        Image.fromarray(photo).save(tmp_path / '1' / f'{i}.png')
        lines.append(f'1/{i}.png,{x},{y},{w},{h},"1.0;2.0;3.0",{i % 8},'
                     '0.5,-0.2')
    (tmp_path / 'training.csv').write_text('\n'.join(lines) + '\n')
    return faces


def test_official_csv_face_boxes_are_cropped(tmp_path):
    from dan_mm.datasets import LoadFaceImage
    boxes = [(10, 20, 40, 50), (70, 0, 50, 64)]
    faces = official_csv(tmp_path, boxes)
    ds = AffectNet(
        str(tmp_path),
        ann_file='training.csv',
        pipeline=[dict(type='LoadFaceImage')])
    for i, (x, y, w, h) in enumerate(boxes):
        info = ds.get_data_info(i)
        assert info['face_box'] == (x, y, w, h)
        out = ds[i]
        # BGR crop of exactly the pasted face (PNG is lossless)
        assert out['img'].shape == (h, w, 3)
        assert np.array_equal(out['img'][..., ::-1], faces[i])
        assert out['img_shape'] == (h, w)
    # pre-cropped copies: ignore the boxes
    plain = AffectNet(
        str(tmp_path), ann_file='training.csv', use_face_box=False)
    assert 'face_box' not in plain.get_data_info(0)
    assert LoadFaceImage()(plain.get_data_info(0))['img'].shape == (90, 120, 3)


def test_face_box_errors(tmp_path):
    from dan_mm.datasets import LoadFaceImage
    official_csv(tmp_path, [(10, 20, 40, 50)])
    text = (tmp_path / 'training.csv').read_text()
    (tmp_path / 'training.csv').write_text(
        text.replace('1/0.png,10,20,40,50', '1/0.png,500,20,40,50'))
    ds = AffectNet(str(tmp_path), ann_file='training.csv')
    with pytest.raises(
            DataError,
            match=r'face box \(x=500, y=20, w=40, h=50\) of '
            r'\S+1/0.png lies outside its 120x90 image'):
        LoadFaceImage()(ds.get_data_info(0))
    (tmp_path / 'training.csv').write_text(
        text.replace('1/0.png,10,20,40,50', '1/0.png,10,20,x,50'))
    with pytest.raises(DataError, match=r'training.csv:2: face box '):
        AffectNet(str(tmp_path), ann_file='training.csv')
    (tmp_path / 'train.csv').write_text('path,label\n1/0.png,1\n')
    with pytest.raises(ConfigError, match='no face box columns'):
        AffectNet(str(tmp_path), ann_file='train.csv', use_face_box=True)
