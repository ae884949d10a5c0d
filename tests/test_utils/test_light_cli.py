"""The tools answer --help, a bad argument and a missing file before they
import torch (dan_mm.deferred_imports); the full import still registers."""
import os.path as osp
import subprocess
import sys

import pytest

from dan_mm.inference import DETECTOR_SHORTCUTS
from dan_mm.utils.cli import DETECTOR_NAMES, PRECISION_NAMES
from dan_mm.utils.precision import PRECISIONS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/dan_r18_synthfer.py'
HEAVY = ('torch', 'mmengine', 'mmpretrain', 'cv2', 'onnxruntime')


def imported_modules(*argv: str):
    """Run ``python -X importtime <argv>``: (status, stderr, imported)."""
    proc = subprocess.run([sys.executable, '-X', 'importtime', *argv],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)
    modules = {
        line.rsplit('|', 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith('import time:') and line.count('|') == 2
    }
    messages = [
        line for line in proc.stderr.splitlines()
        if not line.startswith('import time:')
    ]
    return proc.returncode, '\n'.join(messages), modules


def assert_light(modules):
    heavy = sorted(m for m in modules if m.split('.')[0] in HEAVY)
    assert not heavy, f'imported before the checks: {heavy[:5]}'
    assert 'dan_mm.utils.cli' in modules


@pytest.mark.parametrize('tool', [
    'tools/infer.py', 'tools/visualize_attention.py', 'tools/demo/web_demo.py'
])
def test_help_and_bad_argument_skip_torch(tool):
    code, _, modules = imported_modules(tool, '--help')
    assert code == 0
    assert_light(modules)
    code, err, modules = imported_modules(tool, CONFIG, '--precision', 'fp64')
    assert code == 2 and "invalid choice: 'fp64'" in err
    assert_light(modules)


@pytest.mark.parametrize('argv, message', [
    (['tools/infer.py', CONFIG, 'missing.pth', 'x.jpg'
      ], 'error: checkpoint not found: missing.pth'),
    (['tools/infer.py', 'configs/missing.py', CONFIG, 'x.jpg'
      ], 'error: config file not found: configs/missing.py'),
    (['tools/infer.py', CONFIG, CONFIG, 'missing.jpg'
      ], 'error: input not found: missing.jpg'),
    ([
        'tools/visualize_attention.py', CONFIG, 'missing.pth', 'x.jpg',
        '--out', 'x.png'
    ], 'error: checkpoint not found: missing.pth'),
    (['tools/demo/web_demo.py', CONFIG, 'missing.pth'
      ], 'error: checkpoint not found: missing.pth'),
])
def test_missing_file_is_one_line_without_torch(argv, message):
    code, err, modules = imported_modules(*argv)
    assert code == 1
    assert err.strip() == message
    assert_light(modules)


def test_deferred_import_registers_before_heavy_modules():
    # A script that defers, then imports a heavy dan_mm module: the
    # registration (and the safe checkpoint loading) must be in place.
    script = ('DAN_MM_DEFER_IMPORTS = True\n'
              'import sys\n'
              'import dan_mm.utils.cli\n'
              'assert "torch" not in sys.modules\n'
              'import dan_mm.apis\n'
              'from mmpretrain.registry import MODELS\n'
              'assert MODELS.get("DAN") is not None\n'
              'print("registered")\n')
    proc = subprocess.run([sys.executable, '-c', script],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'registered'


def test_light_choices_match_the_package():
    assert tuple(PRECISIONS) == PRECISION_NAMES
    assert tuple(DETECTOR_SHORTCUTS) == DETECTOR_NAMES
