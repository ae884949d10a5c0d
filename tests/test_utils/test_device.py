"""``--device``: a name that is no device, or a device that is not there,
is one line, checked before any model is loaded."""
from unittest import mock

import pytest
import torch
from fer_test_utils import CONFIG, build_model, save_checkpoint

from dan_mm.demo import DemoService
from dan_mm.inference import FERInferencer
from dan_mm.utils import DeviceError, check_device


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_checkpoint(build_model(),
                           tmp_path_factory.mktemp('device') / 'dan.pth')


def test_check_device():
    assert check_device(None) is None
    assert check_device('cpu') == torch.device('cpu')
    for bad in ('gpu0', 'cuda:x', 'cuda:-1', ''):
        with pytest.raises(DeviceError, match='is not a device name'):
            check_device(bad)
    past = f'cuda:{torch.cuda.device_count()}'
    with pytest.raises(DeviceError, match=f"^device='{past}': ") as info:
        check_device(past)
    assert '\n' not in str(info.value)
    if not torch.cuda.is_available():
        with pytest.raises(
                DeviceError,
                match=r"^device='cuda:0': CUDA is not available on this "
                r'machine \(torch.cuda.is_available\(\) is False\); use '
                "device='cpu'$"):
            check_device('cuda:0')


def test_inferencer_and_demo_check_the_device_before_loading(checkpoint):
    past = f'cuda:{torch.cuda.device_count()}'
    with mock.patch('mmpretrain.apis.base.get_model') as get_model:
        with pytest.raises(DeviceError, match=f"device='{past}'"):
            FERInferencer(CONFIG, checkpoint, device=past)
        with pytest.raises(DeviceError, match='not a device name'):
            DemoService.from_files(CONFIG, checkpoint, device='gpu0')
    get_model.assert_not_called()
