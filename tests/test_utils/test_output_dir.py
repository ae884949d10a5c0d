"""make_output_dir: a folder that cannot take results is one error naming
the parameter, not a FileExistsError / PermissionError traceback."""
import sys

import pytest

from dan_mm.utils.errors import OutputDirError, UserError
from dan_mm.utils.output_dir import make_output_dir


def test_creates_the_folder_and_its_parents(tmp_path):
    out = tmp_path / 'a' / 'b'
    assert make_output_dir(out) == str(out)
    assert out.is_dir() and list(out.iterdir()) == []  # no probe left
    make_output_dir(out)  # an existing folder is fine


def test_a_file_in_the_way_names_the_parameter(tmp_path):
    (tmp_path / 'taken').write_text('x')
    with pytest.raises(OutputDirError) as info:
        make_output_dir(tmp_path / 'taken', '--out-dir')
    assert str(info.value) == (
        f'--out-dir {tmp_path / "taken"} is a file, not a folder: give a '
        'folder (a new one is created) as --out-dir')
    assert isinstance(info.value, UserError) and \
        isinstance(info.value, OSError)
    with pytest.raises(OutputDirError, match='a part of that path is a file'):
        make_output_dir(tmp_path / 'taken' / 'sub')


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='/sys is Linux\'s')
def test_a_folder_that_cannot_be_created(tmp_path):
    # /sys refuses new folders even to root (whom permissions do not stop).
    with pytest.raises(
            OutputDirError,
            match=r'cannot write to out_dir /sys/'
            r'dan_mm_test: Operation not permitted; give a folder'):
        make_output_dir('/sys/dan_mm_test')
