"""The per-group report on a fixture in RAF-DB's exact annotation layout."""
import os.path as osp

import numpy as np
import pytest
import torch
from scipy.stats import binomtest

from dan_mm.evaluation import FERMetric
from dan_mm.evaluation.groups import (group_report, image_key, read_group_csv,
                                      read_rafdb_attributes)
from dan_mm.utils.errors import DataError

LANDMARKS = ('38.32\t48.19', '62.95\t47.78', '50.01\t63.45', '40.51\t80.03',
             '60.22\t79.87')


def write_manu_attri(folder, name, gender, race, age, lines=None):
    """One ``<name>_manu_attri.txt`` as RAF-DB ships it: five tab-separated
    landmark lines, then gender, race and age, one integer a line."""
    path = osp.join(folder, f'{name}_manu_attri.txt')
    with open(path, 'w') as f:
        f.write('\n'.join(lines or [*LANDMARKS, gender, race, age]) + '\n')
    return path


def fixture(tmp_path):
    """75 test faces: 30 male (24 right), 40 female (20 right), 5 unsure
    (all right); race: 35 Caucasian, 40 Asian; age all 20-39."""
    folder = tmp_path / 'Annotation' / 'manual'
    folder.mkdir(parents=True)
    genders = ['0'] * 30 + ['1'] * 40 + ['2'] * 5
    right = [True] * 24 + [False] * 6 + [True] * 20 + [False] * 20 + \
        [True] * 5
    races = ['0'] * 35 + ['2'] * 40
    labels = np.arange(75) % 7
    probs = np.full((75, 7), 0.05)
    for i, ok in enumerate(right):
        probs[i, labels[i] if ok else (labels[i] + 1) % 7] = 0.7
    paths = []
    for i in range(75):
        name = f'test_{i + 1:04d}'
        write_manu_attri(folder, name, genders[i], races[i], '2')
        paths.append(f'/data/rafdb/Image/aligned/{name}_aligned.jpg')
    return str(folder), probs, labels, paths


def test_group_report_per_gender_race_age(tmp_path):
    folder, probs, labels, paths = fixture(tmp_path)
    assert image_key(paths[0]) == 'test_0001'
    groups = read_rafdb_attributes(folder, [image_key(p) for p in paths])
    assert groups[0] == dict(gender='male', race='Caucasian', age='20-39')
    report = group_report(probs, labels, groups)
    rows = {(r['attribute'], r['group']): r for r in report['rows']}
    male, female = rows['gender', 'male'], rows['gender', 'female']
    assert (male['count'], male['top1']) == (30, pytest.approx(80))
    assert (female['count'], female['top1']) == (40, pytest.approx(50))
    ci = binomtest(24, 30).proportion_ci(method='wilson')
    assert male['top1_low'] == pytest.approx(100 * ci.low)
    assert male['top1_high'] == pytest.approx(100 * ci.high)
    # Wilson by hand: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1+z^2/n)
    z, n, p = 1.959964, 30, 0.8
    centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z /
                                                    (4 * n * n))
    assert male['top1_low'] == pytest.approx(
        100 * (centre - half) / (1 + z * z / n), abs=1e-3)
    # every prediction at 0.7: ECE = |accuracy - 0.7|
    assert female['ece'] == pytest.approx(20)
    assert male['ece'] == pytest.approx(10)
    unsure = rows['gender', 'unsure']
    assert unsure['small'] and unsure['count'] == 5
    assert not male['small'] and not female['small']
    gaps = {g['attribute']: g for g in report['gaps']}
    # the unsure group (5 faces, 100%) is flagged and left out of the gap
    assert gaps['gender']['gap'] == pytest.approx(30)
    assert (gaps['gender']['best'], gaps['gender']['worst']) == ('male',
                                                                 'female')
    # Caucasian: 24 + 5 of 35; Asian: 15 + 5 of 40
    assert rows['race', 'Caucasian']['top1'] == pytest.approx(100 * 29 / 35)
    assert rows['race', 'Asian']['top1'] == pytest.approx(100 * 20 / 40)
    assert gaps['age']['gap'] is None  # one group only


def test_fer_metric_logs_and_saves_the_group_report(tmp_path):
    folder, probs, labels, paths = fixture(tmp_path)
    metric = FERMetric(save_dir=str(tmp_path / 'out'), groups=folder)
    metric.dataset_meta = {'classes': tuple('ABCDEFG')}
    metric.process(None, [
        dict(
            pred_score=torch.tensor(p, dtype=torch.float32),
            pred_label=torch.tensor([p.argmax()]),
            gt_label=torch.tensor([g]),
            img_path=path) for p, g, path in zip(probs, labels, paths)
    ])
    metric.evaluate(len(labels))
    assert metric.group_report['gaps'][0]['gap'] == pytest.approx(30)
    assert (tmp_path / 'out' / 'groups.png').stat().st_size > 1000
    csv_text = (tmp_path / 'out' / 'groups.csv').read_text()
    assert 'gender,male,30,80.0,' in csv_text


def test_group_csv_for_any_data_set(tmp_path):
    path = tmp_path / 'groups.csv'
    path.write_text('image,group_name,group_value\n'
                    'a.jpg,lighting,dim\nsub/b.jpg,lighting,bright\n')
    rows = read_group_csv(
        str(path), ['/d/a.jpg', '/d/sub/b.jpg', '/d/c.jpg'], data_root='/d')
    assert rows == [dict(lighting='dim'), dict(lighting='bright'), {}]
    path.write_text('image,group\na.jpg,x\n')
    with pytest.raises(DataError, match='groups.csv:1: header'):
        read_group_csv(str(path), ['/d/a.jpg'])


@pytest.mark.parametrize('lines, where', [
    ([*LANDMARKS, '0', '2'], r'test_0001_manu_attri.txt: 7 lines'),
    ([*LANDMARKS[:4], 'left eye', '0', '2', '1'
      ], r'test_0001_manu_attri.txt:5: "left eye" is not a landmark'),
    ([*LANDMARKS, '0', '3', '1'
      ], r'test_0001_manu_attri.txt:7: race "3" is not one of'),
])
def test_malformed_annotation_file_is_named_with_its_line(
        tmp_path, lines, where):
    write_manu_attri(str(tmp_path), 'test_0001', '', '', '', lines=lines)
    with pytest.raises(DataError, match=where) as err:
        read_rafdb_attributes(str(tmp_path), ['test_0001'])
    assert '\n' not in str(err.value)


@pytest.mark.slow
def test_test_tool_groups_on_synthfer_and_a_malformed_file(
        synthfer_root, tmp_path):
    import shutil

    from fer_test_utils import CONFIG, build_model, save_checkpoint
    from tool_runner import run_tool
    root = str(tmp_path / 'synthfer')
    shutil.copytree(synthfer_root, root)
    checkpoint = save_checkpoint(build_model(), tmp_path / 'dan.pth')
    args = [
        'tools/test.py', CONFIG, checkpoint, '--groups', '--work-dir',
        tmp_path / 'work', '--cfg-options',
        f'test_dataloader.dataset.data_root={root}'
    ]
    code, stdout, stderr = run_tool(*args, in_process=False)
    assert code == 0, stderr
    log = stdout + stderr
    # SynthFER's own groups: skin tone and apparent age, no gender drawn
    assert 'per-group report' in log and 'skin tone' in log
    assert 'largest top-1 gap, skin tone: none (it needs two groups of ' \
        'at least 30 faces)' in log  # 14 test faces: every group flagged
    assert list((tmp_path / 'work').rglob('groups.png'))

    bad = osp.join(root, 'Annotation', 'manual', 'test_0003_manu_attri.txt')
    with open(bad, 'a') as f:
        f.write('7\n')
    code, stdout, stderr = run_tool(*args, in_process=False)
    assert code == 1
    errors = [line for line in stderr.splitlines() if line.strip()]
    assert errors == [
        f'error: {bad}: 9 lines, RAF-DB\'s layout has 8 (5 '
        'landmark lines "x y", then gender, race and age, one '
        'integer each)'
    ], stderr
