"""RAF-DB's layout and label file, and SynthFER written in it."""
import os.path as osp
from unittest import mock

import numpy as np
import pytest
from fer_fixtures import make_rafdb
from mmengine.logging import MMLogger
from PIL import Image
from tool_runner import run_tool

from dan_mm.datasets import RAFDB, RAFDB_CATEGORIES
from dan_mm.synthfer import EXPRESSION_CUES, generate_synthfer


def test_parse_splits_labels_and_paths(tmp_path):
    make_rafdb(
        str(tmp_path), [
            'train_00001.jpg 5', 'train_00002.jpg 1', 'test_0001.jpg 7', '',
            'test_0002.jpg 3'
        ])
    root = str(tmp_path)
    train = RAFDB(root, split='train')
    test = RAFDB(root, split='test')
    assert len(train) == 2 and len(test) == 2
    assert train.get_gt_labels().tolist() == [4, 0]  # file labels - 1
    assert test.get_gt_labels().tolist() == [6, 2]
    assert train.CLASSES == RAFDB_CATEGORIES
    assert train.CLASSES[4] == 'Sadness' and train.CLASSES[0] == 'Surprise'
    info = train.get_data_info(0)
    assert info['img_path'] == osp.join(root, 'Image', 'aligned',
                                        'train_00001_aligned.jpg')
    assert test.test_mode and not train.test_mode


@pytest.mark.parametrize('text,error,message', [
    ('train_00001.jpg 1\ntrain_00002.jpg\n', ValueError,
     r':2: expected "<image name> <label 1-7>", got "train_00002.jpg"'),
    ('train_00001.jpg happy\n', ValueError, r':1: expected'),
    ('train_00001.jpg 8\n', ValueError, r':1: label 8 of train_00001.jpg is '
     r'outside 1..7'),
    ('train_00001.jpg 0\n', ValueError, r':1: label 0 .* outside 1..7'),
    ('train_00001.jpg 1\ntest_0001.jpg 2\ntrain_00001.jpg 3\n', ValueError,
     r':3: train_00001.jpg is listed again \(first on line 1\)'),
    ('train_00001.jpg 1\ntrain_00099.jpg 2\n', FileNotFoundError,
     r':2: image \S+train_00099_aligned.jpg listed for train_00099.jpg does '
     r'not exist'),
    ('test_0001.jpg 1\n', ValueError, r': no usable "train_\*" entries'),
    (b'train_00001.jpg 1\n\xff\xfe\x00', ValueError,
     r': not a UTF-8 text label file'),
])
def test_bad_label_file_names_file_and_line(tmp_path, text, error, message):
    ann = make_rafdb(
        str(tmp_path), text, images=['train_00001.jpg', 'test_0001.jpg'])
    with pytest.raises(error, match=message) as info:
        RAFDB(str(tmp_path), split='train')
    assert str(ann) in str(info.value)


def test_missing_label_file(tmp_path):
    with pytest.raises(
            FileNotFoundError,
            match=r'RAF-DB label file not found: \S+'
            r'list_patition_label\.txt'):
        RAFDB(str(tmp_path), split='train')


def test_missing_image_is_named_or_skipped(tmp_path):
    ann = make_rafdb(
        str(tmp_path), ['train_00001.jpg 1', 'train_00002.jpg 2'],
        images=['train_00001.jpg'])
    with pytest.raises(FileNotFoundError) as err:
        RAFDB(str(tmp_path), split='train')
    assert 'train_00002_aligned.jpg' in str(err.value)
    assert ':2' in str(err.value)
    with mock.patch.object(MMLogger.get_current_instance(), 'warning') as log:
        dataset = RAFDB(str(tmp_path), split='train', skip_missing=True)
    assert len(dataset) == 1
    assert log.call_args.args[0].startswith(
        f'RAFDB: skipped 1 missing images listed in {ann}')


def test_bad_split(tmp_path):
    with pytest.raises(ValueError, match="'train', 'test'"):
        RAFDB(str(tmp_path), split='val')


def test_synthfer_is_read_by_rafdb_and_balanced(synthfer_root):
    train = RAFDB(synthfer_root, split='train')
    test = RAFDB(synthfer_root, split='test')
    assert len(train) == 28 and len(test) == 14
    assert np.bincount(train.get_gt_labels()).tolist() == [4] * 7
    img = Image.open(train.get_data_info(0)['img_path'])
    assert img.size == (64, 64) and img.mode == 'RGB'


def test_synthfer_is_deterministic_by_seed(tmp_path):
    a, b, c = (str(tmp_path / n) for n in 'abc')
    for root, seed in ((a, 3), (b, 3), (c, 4)):
        generate_synthfer(
            root, num_train=7, num_test=0, seed=seed, size=32, progress=False)

    def read(root):
        path = osp.join(root, 'Image', 'aligned', 'train_00005_aligned.jpg')
        return open(path, 'rb').read()

    assert read(a) == read(b)
    assert read(a) != read(c)


def test_generate_synthfer_tool_writes_and_keeps(tmp_path):
    out = tmp_path / 'synth'
    args = ('tools/dataset_converters/generate_synthfer.py', out,
            '--num-train', 7, '--num-test', 0, '--size', 32)
    code, stdout, _ = run_tool(*args)
    assert code == 0 and 'wrote 7 train + 0 test images' in stdout
    assert len(RAFDB(str(out), split='train')) == 7
    code, stdout, _ = run_tool(*args)  # an existing set is kept
    assert code == 0 and 'exists, keeping it' in stdout


def test_synthfer_classes_need_several_regions():
    cues = list(EXPRESSION_CUES.values())
    assert len(set(cues)) == len(cues) == 7  # every class is distinct
    for region in range(3):
        # no single region tells all classes apart
        assert len({c[region] for c in cues}) < len(cues)
    # every expression is a combination of cues in at least two regions
    neutral = EXPRESSION_CUES['Neutral']
    for name, c in EXPRESSION_CUES.items():
        if name != 'Neutral':
            assert sum(a != b for a, b in zip(c, neutral)) >= 2, name
    # as surprise and fear do, some pairs differ in one region only

    def diff(x, y):
        return sum(a != b
                   for a, b in zip(EXPRESSION_CUES[x], EXPRESSION_CUES[y]))

    assert diff('Surprise', 'Fear') == 1
    assert diff('Anger', 'Disgust') == 1


@pytest.mark.slow
def test_generate_synthfer_refuses_a_folder_not_empty(tmp_path):
    """A folder with files in it may be another run's: refused, and with
    overwrite an earlier SynthFER set is deleted first, not mixed in."""
    from dan_mm.utils.errors import OutputExistsError
    root = str(tmp_path / 'synth')
    kwargs = dict(num_test=0, size=32, progress=False)
    generate_synthfer(root, num_train=14, **kwargs)
    with pytest.raises(
            OutputExistsError,
            match='synth is not empty .*'
            'another folder, or pass overwrite=True'):
        generate_synthfer(root, num_train=7, **kwargs)
    assert len(RAFDB(root, split='train')) == 14
    generate_synthfer(root, num_train=7, overwrite=True, **kwargs)
    assert len(RAFDB(root, split='train')) == 7
    # no image of the earlier set stays behind
    assert len(list((tmp_path / 'synth' / 'Image' / 'aligned').iterdir())) \
        == 7
    # files SynthFER did not write are never deleted
    (tmp_path / 'synth' / 'notes.txt').write_text('mine')
    with pytest.raises(OutputExistsError, match='notes.txt is not a file'):
        generate_synthfer(root, num_train=7, overwrite=True, **kwargs)
    assert (tmp_path / 'synth' / 'notes.txt').read_text() == 'mine'
    assert len(RAFDB(root, split='train')) == 7


def test_generate_synthfer_tool_refuses_a_partial_folder(tmp_path):
    (tmp_path / 'other.txt').write_text('not SynthFER')
    code, _, stderr = run_tool('tools/dataset_converters/generate_synthfer.py',
                               tmp_path, '--num-train', 7, '--num-test', 0)
    assert code == 1
    assert stderr.startswith('error: ') and stderr.count('\n') == 1
    assert 'other.txt' in stderr and '--overwrite' in stderr


def test_synthfer_attributes_in_rafdb_layout_and_older_faces_only_change(
        tmp_path):
    from dan_mm.evaluation.groups import SYNTHFER_GROUPS, read_rafdb_attributes
    from dan_mm.synthfer import generate_synthfer
    young, mixed = str(tmp_path / 'young'), str(tmp_path / 'mixed')
    for root, share in ((young, 0.0), (mixed, 0.5)):
        generate_synthfer(
            root,
            num_train=0,
            num_test=14,
            seed=3,
            size=64,
            progress=False,
            older_share=share)
    names = [f'test_{i:04d}' for i in range(1, 15)]
    attrs = {
        root:
        read_rafdb_attributes(
            osp.join(root, 'Annotation', 'manual'), names, SYNTHFER_GROUPS)
        for root in (young, mixed)
    }
    assert {a['apparent age'] for a in attrs[young]} == {'young'}
    assert {a['apparent age'] for a in attrs[mixed]} == {'young', 'older'}
    # the same faces otherwise: skin tones, and the images of young faces
    assert [a['skin tone'] for a in attrs[young]] == \
        [a['skin tone'] for a in attrs[mixed]]
    for name, attr in zip(names, attrs[mixed]):
        images = [
            open(
                osp.join(root, 'Image', 'aligned', f'{name}_aligned.jpg'),
                'rb').read() for root in (young, mixed)
        ]
        assert (images[0] == images[1]) == (attr['apparent age'] == 'young')
