"""The tools' shared command line: a user error as one line and its exit
status, --debug, --precision, and the checkpoint a load error names."""
import argparse

import pytest
import torch

from dan_mm.utils import precision as precision_module
from dan_mm.utils.cli import (DEBUG_ENV, add_debug_argument,
                              add_precision_argument, exit_on_user_error,
                              in_flags, naming_checkpoint)
from dan_mm.utils.errors import (CheckpointMismatchError, ConfigError,
                                 NoFaceFoundError)


def test_user_error_exits_with_one_line(capsys, monkeypatch):
    # recorded, so that what --debug sets below is undone after the test
    monkeypatch.setenv(DEBUG_ENV, '')

    @exit_on_user_error
    def main(error):
        raise error

    with pytest.raises(SystemExit) as info:
        main(ConfigError('bad key x; set y'))
    assert info.value.code == 1
    assert capsys.readouterr().err == 'error: bad key x; set y\n'
    with pytest.raises(SystemExit) as info:
        main(NoFaceFoundError('no face found in a.jpg'))
    assert info.value.code == 2  # the class's exit_code
    # a bug keeps its traceback
    with pytest.raises(KeyError):
        main(KeyError('bug'))
    # --debug: the user error's traceback too, for the whole process
    parser = argparse.ArgumentParser()
    add_debug_argument(parser)
    assert parser.parse_args(['--debug']).debug is True
    with pytest.raises(ConfigError):
        main(ConfigError('shown with its traceback'))
    monkeypatch.setenv(DEBUG_ENV, '0')
    with pytest.raises(SystemExit):
        main(ConfigError('0 means off'))


def test_in_flags_spells_api_parameters_as_the_tools_flags():
    """The package names parameters and config keys; the command line
    shows the flags, word for word as the tools' errors always read."""
    assert in_flags("device='cuda:0': CUDA is not available; use "
                    "device='cpu'") == \
        '--device cuda:0: CUDA is not available; use --device cpu'
    assert in_flags('export to another folder, or pass overwrite=True') \
        == 'export to another folder, or pass --overwrite'
    # several config settings in a row are one --cfg-options
    assert in_flags('set cfg.model.head.num_classes=7 '
                    'cfg.model.neck.num_heads=4 when testing') == \
        'set --cfg-options model.head.num_classes=7 model.neck.num_heads=4 ' \
        'when testing'
    assert in_flags("(cfg.a.b=PATH); cfg.model.x.device='gpu'") == \
        "(--cfg-options a.b=PATH); --cfg-options model.x.device='gpu'"
    # numbers, and names with an underscore also bare
    assert in_flags("below min_agreement=1.01; kept no file; try "
                    "calib_method='percentile', more num_calib faces, or a "
                    'lower min_agreement') == \
        'below --min-agreement 1.01; kept no file; try --calib-method ' \
        'percentile, more --num-calib faces, or a lower --min-agreement'
    assert in_flags('threads=0: use at least 1') == \
        '--threads 0: use at least 1'
    assert in_flags('checkpoint not found: a.pth (resume=True); '
                    'cfg.resume=True') == \
        'checkpoint not found: a.pth (--resume); --cfg-options resume=True'
    # words that only look alike stay
    assert in_flags("the device is cpu; my_cfg.x; overwrite=False; "
                    "'num_calib'; model.num_calib") == \
        "the device is cpu; my_cfg.x; overwrite=False; 'num_calib'; " \
        'model.num_calib'


def test_precision_flag_and_autocast():
    parser = argparse.ArgumentParser()
    add_precision_argument(parser)
    assert parser.parse_args([]).precision == 'fp32'
    assert parser.parse_args(['--precision', 'bf16']).precision == 'bf16'
    with pytest.raises(SystemExit):
        parser.parse_args(['--precision', 'int8'])
    linear = torch.nn.Linear(4, 2)
    with precision_module.autocast('cpu', 'bf16'):
        assert linear(torch.randn(1, 4)).dtype == torch.bfloat16
    with precision_module.autocast(torch.device('cpu'), 'fp32'):
        assert linear(torch.randn(1, 4)).dtype == torch.float32
    with pytest.raises(ConfigError, match='precision must be one of'):
        precision_module.autocast('cpu', 'fp8')


def test_naming_checkpoint_adds_the_file_once():
    # (a damaged file is named by the loader: test_safe_checkpoint.py)
    with pytest.raises(CheckpointMismatchError) as info:
        with naming_checkpoint('dan.pth'):
            raise CheckpointMismatchError('has 2 heads; set num_heads=2')
    assert str(info.value) == (
        'cannot load checkpoint dan.pth: has 2 heads; set num_heads=2')
    with pytest.raises(CheckpointMismatchError) as info:
        with naming_checkpoint('dan.pth'):
            raise CheckpointMismatchError('dan.pth is the wrong form')
    assert str(info.value) == 'dan.pth is the wrong form'
    with pytest.raises(RuntimeError, match='^CUDA out of memory$'):
        with naming_checkpoint('c.pth'):  # not about the file: unchanged
            raise RuntimeError('CUDA out of memory')
