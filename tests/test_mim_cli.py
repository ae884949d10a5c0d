"""The real ``mim`` command line after the README's install command, and
what that install holds.

A virtual environment that sees this Python's packages
(``.ci/overlay_venv.py``, which also works when pytest itself runs in a
venv) gets a copy of this checkout installed as the README installs it,
``pip install --no-deps --no-build-isolation .``; every command then runs
in a scratch folder, without PYTHONPATH, so that mim finds dan_mm only
through that install.
"""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
from fer_test_utils import REPO

# What setup.py reads to build the package, and the GPU check beside it
# (which must stay out of the wheel).
SOURCES = ('setup.py', 'setup.cfg', 'README.md', 'model-index.yml',
           'requirements', 'dan_mm', 'configs', 'tools', '.ci')


def run(args, cwd, env, timeout=600):
    result = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """``(python, env, cwd)``: a venv with this checkout installed."""
    tmp = tmp_path_factory.mktemp('mim')
    source = tmp / 'dan_mm_src'
    source.mkdir()
    for name in SOURCES:
        src = osp.join(REPO, name)
        if osp.isdir(src):
            shutil.copytree(
                src,
                source / name,
                ignore=shutil.ignore_patterns('__pycache__', '.mim'))
        else:
            shutil.copy(src, source / name)
    venv = tmp / 'venv'
    # Not `venv --system-site-packages`: run from a venv, that links to the
    # base interpreter's packages (no torch, an old setuptools), not this
    # Python's. The venv has no pip of its own: it uses this Python's.
    run([sys.executable,
         osp.join(REPO, '.ci', 'overlay_venv.py'),
         str(venv)],
        cwd=tmp,
        env=os.environ)
    python = str(venv / 'bin' / 'python')
    env = {
        k: v
        for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PWD')
    }
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    run([
        python, '-m', 'pip', 'install', '-q', '--no-deps',
        '--no-build-isolation', '.'
    ],
        cwd=source,
        env=env)
    cwd = tmp / 'user'
    cwd.mkdir()
    return python, env, cwd


@pytest.mark.slow
def test_the_installed_wheel_has_configs_and_tools_but_no_gpu_check(installed):
    """pip built a wheel and installed it: its RECORD is the wheel's file
    list."""
    venv = osp.dirname(osp.dirname(installed[0]))
    records = glob.glob(
        osp.join(venv, 'lib', 'python*', 'site-packages', 'dan_mm-*.dist-info',
                 'RECORD'))
    assert len(records) == 1, records
    with open(records[0]) as f:
        files = [line.split(',')[0] for line in f]
    for name in ('tools/train.py', 'tools/analysis_tools/benchmark.py',
                 'configs/dan_r18_rafdb.py', 'model-index.yml'):
        assert f'dan_mm/.mim/{name}' in files
    harness = [f for f in files if re.search(r'gpu|wheelhouse|\.ci/', f)]
    assert harness == []


@pytest.mark.slow
def test_mim_search_run_train_and_test_after_the_readme_install(installed):
    python, env, cwd = installed
    # The package, what mim finds, and the model index ModelHub reads.
    located = run([
        python, '-c', 'import dan_mm, mim.utils; print(dan_mm.__file__); '
        "print(mim.utils.get_installed_path('dan_mm')); "
        'print(dan_mm.utils.model_index.find_model_index()[0])'
    ],
                  cwd=cwd,
                  env=env).stdout.split()
    venv = osp.dirname(osp.dirname(python))
    assert len(located) == 3, located
    assert all(path.startswith(venv) for path in located), located

    def mim(*args):
        result = run([python, '-m', 'mim', *map(str, args)], cwd=cwd, env=env)
        return result.stdout + result.stderr

    out = mim('search', 'dan_mm')
    assert 'config id: dan_r18_rafdb' in out
    assert 'config id: dan_r18_synthfer' in out

    # The config's own data root, data/synthfer, made through mim run.
    mim('run', 'dan_mm', 'generate_synthfer', 'data/synthfer', '--num-train',
        24, '--num-test', 14, '--size', 64)
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    tiny = ['train_dataloader.batch_size=8', 'train_cfg.max_epochs=1']
    tiny += [f'{loader}.num_workers=0' for loader in loaders]
    out = mim('train', 'dan_mm', 'dan_r18_synthfer.py', '--work-dir', 'work',
              '--cfg-options', *tiny)
    assert 'Epoch(val) [1][' in out
    checkpoint = cwd / 'work' / 'epoch_1.pth'
    assert checkpoint.is_file()

    out = mim('test', 'dan_mm', 'dan_r18_synthfer.py', '--checkpoint',
              checkpoint, '--work-dir', 'test', '--cfg-options',
              'test_dataloader.num_workers=0')
    assert 'Epoch(test) [' in out and 'fer/top1' in out
    assert 'fer/recall/Surprise' in out  # our class names
