"""User errors: what Python callers catch them as, and one line even when
a data-loader worker wrapped them."""
from dan_mm.utils.errors import (ConfigError, DataNotFoundError,
                                 UnreadableImageError, UserError, one_line)


def test_user_errors_are_what_python_callers_expect():
    assert issubclass(DataNotFoundError, FileNotFoundError)
    assert issubclass(ConfigError, ValueError)
    assert issubclass(DataNotFoundError, UserError)


def test_one_line_unwraps_a_data_loader_worker_error():
    wrapped = UnreadableImageError(
        'Caught UnreadableImageError in DataLoader worker process 0.\n'
        'Original Traceback (most recent call last):\n'
        '  File "x.py", line 1, in f\n'
        'dan_mm.utils.errors.UnreadableImageError: cannot read image a.jpg:'
        ' zero-byte file')
    assert one_line(wrapped) == 'cannot read image a.jpg: zero-byte file'
    assert one_line(ValueError('two\nlines')) == 'two lines'
