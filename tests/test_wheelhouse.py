""".ci/gpu/check_wheelhouse.py on hand-made wheels (no network), and the
wheelhouse's pins against the runtime requirements."""
import os.path as osp
import re
import zipfile

import pytest
from fer_test_utils import REPO, import_harness


@pytest.fixture(scope='module')
def tool():
    return import_harness('check_wheelhouse')


def make_wheel(folder, name, version, requires=(), tag='py3-none-any'):
    """A minimal wheel: just the METADATA that pip and the check read."""
    dist = f'{name.replace("-", "_")}-{version}'
    path = osp.join(folder, f'{dist}-{tag}.whl')
    meta = f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n'
    meta += ''.join(f'Requires-Dist: {r}\n' for r in requires)
    with zipfile.ZipFile(path, 'w') as zf:
        zf.writestr(f'{dist}.dist-info/METADATA', meta)
    return path


def test_complete_wheelhouse_passes(tool, tmp_path):
    make_wheel(tmp_path, 'mmengine', '0.10.7', [
        'addict', 'numpy', 'opencv-python>=3', 'regex; sys_platform == '
        '"win32"', 'pytest; extra == "tests"'
    ])
    make_wheel(tmp_path, 'mmcv-lite', '2.2.0', ['mmengine>=0.3.0', 'addict'])
    make_wheel(tmp_path, 'addict', '2.4.0')
    make_wheel(tmp_path, 'yapf', '0.43.0', ['tomli; python_version < "3.11"'])
    make_wheel(
        tmp_path,
        'fastlib',
        '1.0',
        tag='cp312-cp312-manylinux_2_17_'
        'x86_64.manylinux2014_x86_64')
    wheels, problems = tool.check(str(tmp_path), '3.12')
    assert problems == []
    assert str(wheels['mmcv-lite'][0]) == '2.2.0'


def test_each_problem_is_named(tool, tmp_path):
    make_wheel(tmp_path, 'mmcv-lite', '2.2.0', ['mmengine>=0.11', 'missing'])
    make_wheel(tmp_path, 'mmengine', '0.10.7')
    make_wheel(
        tmp_path, 'wrongpy', '1.0', tag='cp311-cp311-manylinux2014_'
        'x86_64')
    make_wheel(
        tmp_path, 'armlib', '1.0', tag='cp312-cp312-manylinux2014_'
        'aarch64')
    make_wheel(tmp_path, 'numpy', '2.0.0')  # the machine has it
    make_wheel(tmp_path, 'addict', '2.3.0')
    make_wheel(tmp_path, 'addict', '2.4.0')
    _, problems = tool.check(str(tmp_path), '3.12')
    text = '\n'.join(problems)
    assert 'mmengine>=0.11, the wheelhouse has mmengine 0.10.7' in text
    assert 'needs missing: neither in the wheelhouse nor on the machine' \
        in text
    assert 'wrongpy-1.0-cp311' in text and 'armlib-1.0-cp312' in text
    assert 'the machine already has numpy' in text
    assert 'addict: two versions' in text
    assert len(problems) == 6
    _, problems = tool.check(str(tmp_path), '3.12', max_mb=0.0)
    assert any('more than 0.0 MB' in p for p in problems)


def pins(path):
    found = {}
    for line in open(path):
        match = re.match(r'^([A-Za-z0-9_.-]+)==([^\s#;]+)', line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_wheelhouse_pins_follow_the_runtime_pins():
    wheelhouse = pins(osp.join(REPO, 'requirements', 'wheelhouse.txt'))
    runtime = pins(osp.join(REPO, 'requirements', 'runtime.txt'))
    shared = set(wheelhouse) & set(runtime)
    assert {'mmengine', 'mmcv-lite', 'mmpretrain'} <= shared
    for name in shared:
        assert wheelhouse[name] == runtime[name], name
    assert not {'torch', 'torchvision', 'opencv-python'} & set(wheelhouse)
