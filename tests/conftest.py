import os
import os.path as osp
import tempfile

import pytest
import torch
from mmengine.registry import DefaultScope

import dan_mm  # noqa: F401  (registers DAN's components)

# The tools the tests start import this checkout too, not whichever copy of
# dan_mm is installed (the README installs a regular copy, which mim needs).
os.environ['PYTHONPATH'] = os.pathsep.join(
    p for p in (osp.dirname(osp.dirname(osp.abspath(__file__))),
                os.environ.get('PYTHONPATH')) if p)

# tools/infer.py exports the deploy model for ONNX Runtime on the CPU; the
# tests' exports stay out of the user's cache.
os.environ.setdefault('DAN_MM_ONNX_CACHE',
                      tempfile.mkdtemp(prefix='dan_mm_test_onnx_'))

torch.set_num_threads(2)

# Downloads (dan_mm.zoo) go to a cache of this test session's own, never to
# the user's; tests that look into the cache set their own DAN_MM_HOME.
os.environ['DAN_MM_HOME'] = tempfile.mkdtemp(prefix='dan_mm_home-')

# Build from the mmpretrain registries, as the runner does.
DefaultScope.get_instance('dan_mm_tests', scope_name='mmpretrain')


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` need CUDA: skipped here when there is none.

    They run where a GPU is, through ``.ci/gpu/gpu_check.sh``.
    """
    if torch.cuda.is_available():
        return
    no_cuda = pytest.mark.skip(reason='needs CUDA (torch.cuda.is_available() '
                               'is False)')
    for item in items:
        if 'gpu' in item.keywords:
            item.add_marker(no_cuda)


@pytest.fixture(scope='session')
def synthfer_root(tmp_path_factory):
    """A tiny SynthFER set in RAF-DB layout: 28 train + 14 test, 64x64."""
    from dan_mm.synthfer import generate_synthfer
    root = str(tmp_path_factory.mktemp('synthfer'))
    generate_synthfer(
        root, num_train=28, num_test=14, seed=1, size=64, progress=False)
    return root
