"""crop_faces.py: training faces cut by the inference detector and crop,
bit for bit; the report of photos without one face; never overwriting."""
import csv
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from fer_test_utils import CONFIG, error_lines, faces_photo
from matplotlib import cbook
from tool_runner import REPO, run_tool

from dan_mm.inference import FERInferencer
from dan_mm.inference.face_crops import crop_face_folders

# An aligned crop (five landmarks onto RAF-DB's template) and a box crop.
RAFDB_CONFIG = osp.join(REPO, 'configs', 'dan_r18_rafdb.py')
TOOL = 'tools/dataset_converters/crop_faces.py'


def make_photos(root):
    """happy/: a real photo (matplotlib's Grace Hopper) and one with two
    faces; sad/: a text file named .jpg and a photo without a face."""
    for name in ('happy', 'sad'):
        os.makedirs(osp.join(root, name))
    shutil.copy(
        cbook.get_sample_data('grace_hopper.jpg', asfileobj=False),
        osp.join(root, 'happy', 'grace.jpg'))
    cv2.imwrite(osp.join(root, 'happy', 'pair.png'), faces_photo(2, 160))
    with open(osp.join(root, 'sad', 'notes.jpg'), 'w') as f:
        f.write('not a photo\n')
    cv2.imwrite(
        osp.join(root, 'sad', 'wall.png'), np.full((120, 120, 3), 90,
                                                   np.uint8))
    return str(root)


@pytest.mark.parametrize('config', [RAFDB_CONFIG, CONFIG])
def test_same_crop_as_inference(tmp_path, config):
    """The face written is the one FERInferencer classifies for that
    model, pixel for pixel (the largest of a photo with two)."""
    photos = make_photos(tmp_path / 'photos')
    out = tmp_path / 'faces'
    summary = crop_face_folders(photos, str(out), config, progress=False)
    assert summary.written == 2
    inferencer = FERInferencer(config)
    for name in ('grace.jpg', 'pair.png'):
        image = inferencer.load_image(osp.join(photos, 'happy', name), 0)
        areas = [(b[2] - b[0]) * (b[3] - b[1]) for b in image['boxes']]
        expected = image['crops'][int(np.argmax(areas))].img
        stem = osp.splitext(name)[0]
        written = cv2.imread(
            str(out / 'happy' / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        assert written.dtype == np.uint8
        np.testing.assert_array_equal(written, expected)
    if config == RAFDB_CONFIG:  # aligned: the template's size
        assert expected.shape == (100, 100, 3)


def test_report_and_rerun(tmp_path):
    photos = make_photos(tmp_path / 'photos')
    out = tmp_path / 'faces'
    lines = []
    summary = crop_face_folders(
        photos,
        str(out),
        CONFIG,
        on_problem=lambda photo, what: lines.append((photo, what)),
        progress=False)
    problems = {osp.basename(p): what for p, what in lines}
    assert problems['notes.jpg'].startswith('unreadable')
    assert problems['wall.png'] == 'no face'
    assert problems['pair.png'].startswith('several faces: 2 found')
    assert 'grace.jpg' not in problems
    with open(summary.report, newline='') as f:
        rows = {osp.basename(r['photo']): r for r in csv.DictReader(f)}
    assert set(rows) == {'notes.jpg', 'wall.png', 'pair.png'}
    assert rows['wall.png']['class'] == 'sad'
    assert 'no face: 1' in summary.line() and 'unreadable: 1' in summary.line()
    # A second run continues: written faces stay as they are (even when
    # changed since), the report still lists every problem.
    face = out / 'happy' / 'grace.png'
    cv2.imwrite(str(face), np.zeros((4, 4, 3), np.uint8))
    again = crop_face_folders(photos, str(out), CONFIG, progress=False)
    assert (again.written, again.done) == (0, 2)
    assert cv2.imread(str(face)).shape == (4, 4, 3)
    assert {osp.basename(p) for p, _ in again.problems} == set(rows)
    assert sorted(os.listdir(out / 'happy')) == ['grace.png', 'pair.png']


def test_all_faces_and_no_detect(tmp_path):
    photos = make_photos(tmp_path / 'photos')
    out = tmp_path / 'all'
    crop_face_folders(photos, str(out), CONFIG, all_faces=True, progress=False)
    assert sorted(os.listdir(
        out / 'happy')) == ['grace_0.png', 'pair_0.png', 'pair_1.png']
    # Already cropped faces pass whole (the box crop clips to the image).
    whole = tmp_path / 'whole'
    summary = crop_face_folders(
        photos, str(whole), CONFIG, no_detect=True, progress=False)
    assert summary.written == 3  # only the text file fails
    wall = cv2.imread(str(whole / 'sad' / 'wall.png'))
    assert wall.shape == (120, 120, 3)


def test_tool_errors(tmp_path):
    code, out, err = run_tool(TOOL, str(tmp_path / 'missing'),
                              str(tmp_path / 'out'), '--model', CONFIG)
    assert code == 1
    (line, ) = error_lines(err)
    assert line.startswith('error: PHOTOS: folder not found')
    photos = make_photos(tmp_path / 'photos')
    code, out, err = run_tool(TOOL, photos, str(tmp_path / 'out'), '--model',
                              'no_such_config.py')
    assert code == 1
    (line, ) = error_lines(err)
    assert line.startswith('error: --model: config file not found: '
                           'no_such_config.py')
