"""A user error on a torchrun rank: recorded for the launcher (and printed
by it once), a peer that loses its rank stops quietly, and the launcher
collects the distinct messages."""
import json

import pytest

from dan_mm.engine import torchrun
from dan_mm.utils import worker_errors
from dan_mm.utils.cli import exit_on_user_error
from dan_mm.utils.errors import ConfigError


@pytest.fixture
def elastic_files(tmp_path, monkeypatch):
    """torchelastic's per-worker error files of a 2-worker attempt."""
    for rank in (0, 1):
        (tmp_path / str(rank)).mkdir()
    monkeypatch.setenv(worker_errors.ERROR_FILE_ENV,
                       str(tmp_path / '1' / 'error.json'))
    monkeypatch.delenv(worker_errors.LAUNCHER_ENV, raising=False)
    monkeypatch.delenv('DAN_MM_DEBUG', raising=False)
    return tmp_path


def test_user_error_is_recorded_for_the_launcher(elastic_files, capsys,
                                                 monkeypatch):

    @exit_on_user_error
    def fails():
        raise ConfigError('bad key')

    # plain torchrun: recorded, and printed by the worker itself
    with pytest.raises(SystemExit) as info:
        fails()
    assert info.value.code == 1
    assert capsys.readouterr().err == 'error: bad key\n'
    data = json.loads((elastic_files / '1' / 'error.json').read_text())
    assert data['message']['message'] == 'bad key'
    assert data['message']['extraInfo'][worker_errors.USER_ERROR_KEY] is True
    int(data['message']['extraInfo']['timestamp'])  # torchelastic reads it
    # under dan_mm.engine.torchrun: the launcher prints it, once
    monkeypatch.setenv(worker_errors.LAUNCHER_ENV, '1')
    with pytest.raises(SystemExit):
        fails()
    assert capsys.readouterr().err == ''


def test_peer_of_a_user_error_stops_quietly(elastic_files, capsys,
                                            monkeypatch):

    @exit_on_user_error
    def loses_its_peer():
        raise RuntimeError('Connection closed by peer')

    # no peer error yet: a failure is a bug, and keeps its traceback
    with pytest.raises(RuntimeError):
        loses_its_peer()
    (elastic_files / '0' / 'error.json').write_text(
        json.dumps({
            'message': {
                'message': 'rank 0 data root',
                'extraInfo': {
                    'timestamp': '1',
                    worker_errors.USER_ERROR_KEY: True
                }
            }
        }))
    assert worker_errors.peer_user_error() == 'rank 0 data root'
    with pytest.raises(SystemExit) as info:
        loses_its_peer()
    assert info.value.code == 1 and capsys.readouterr().err == ''
    monkeypatch.setenv('DAN_MM_DEBUG', '1')  # --debug: every traceback
    with pytest.raises(RuntimeError):
        loses_its_peer()


def test_launcher_collects_distinct_messages(tmp_path):

    class Failure:

        def __init__(self, error_file):
            self.error_file = error_file

    files = {}
    for rank, (message, marked) in enumerate([('same', True), ('same', True),
                                              ('a bug', False),
                                              ('other', True)]):
        path = tmp_path / f'{rank}.json'
        path.write_text(
            json.dumps({
                'message': {
                    'message': message,
                    'extraInfo': {
                        'timestamp': '1',
                        worker_errors.USER_ERROR_KEY: marked
                    }
                }
            }))
        files[rank] = Failure(str(path))
    files[4] = Failure('<N/A>')  # a worker killed by a signal
    assert torchrun.user_error_messages(files) == ['same', 'other']
    assert torchrun.user_error_messages({0: Failure('<N/A>')}) == []
