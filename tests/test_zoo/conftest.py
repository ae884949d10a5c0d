import pytest
from zoo_server import CountingServer


@pytest.fixture
def server(tmp_path):
    """A counting file server over ``tmp_path / 'served'``."""
    root = tmp_path / 'served'
    root.mkdir()
    with CountingServer(root) as srv:
        yield srv


@pytest.fixture
def zoo_home(tmp_path, monkeypatch):
    """An empty cache for this test (``DAN_MM_HOME``)."""
    home = tmp_path / 'home'
    monkeypatch.setenv('DAN_MM_HOME', str(home))
    return home
