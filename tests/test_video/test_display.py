"""Showing frames needs a display: told before anything is opened (Qt
would abort the process); a camera that is not there is one error, without
OpenCV's own log lines."""
import socket

import cv2
import pytest

from dan_mm.apis import check_source
from dan_mm.utils.errors import DisplayError, InputError
from dan_mm.video import display
from dan_mm.video.source import open_video


@pytest.fixture
def qt_build(monkeypatch):
    monkeypatch.setattr(display, 'opencv_gui', lambda: 'QT5')
    monkeypatch.setattr(display.sys, 'platform', 'linux')
    for name in ('DISPLAY', 'WAYLAND_DISPLAY'):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_display_is_one_error_naming_the_option(qt_build):
    with pytest.raises(DisplayError) as info:
        display.check_display('--show')
    message = str(info.value)
    assert message.startswith('--show: cannot show frames in a window: '
                              'there is no display (DISPLAY is not set)')
    assert 'run without --show' in message and '\n' not in message


def test_wayland_alone_serves_gtk_but_not_opencv_qt(qt_build):
    qt_build.setenv('WAYLAND_DISPLAY', 'wayland-0')
    assert 'DISPLAY is not set' in display.display_problem()  # xcb only
    qt_build.setattr(display, 'opencv_gui', lambda: 'GTK3')
    assert display.display_problem() is None


def test_a_headless_opencv_cannot_show(qt_build):
    qt_build.setattr(display, 'opencv_gui', lambda: 'NONE')
    qt_build.setenv('DISPLAY', ':0')
    assert 'no window support' in display.display_problem()


def test_the_display_must_answer(qt_build):
    """DISPLAY=host:N is the X server on TCP port 6000 + N."""
    server = socket.create_server(('127.0.0.1', 0))
    number = server.getsockname()[1] - 6000
    if number < 0:
        server.close()
        pytest.skip('the free port is below 6000')  # never on Linux
    qt_build.setenv('DISPLAY', f'127.0.0.1:{number}.0')
    try:
        assert display.display_problem() is None
    finally:
        server.close()
    assert display.display_problem() == (
        f'the display DISPLAY=127.0.0.1:{number}.0 cannot be reached')
    assert display.x_display_reachable('not a display')  # left to OpenCV


def test_the_installed_opencv_names_its_gui():
    assert display.opencv_gui() not in ('', 'UNKNOWN')


def test_a_missing_camera_is_one_error_without_opencv_log(capfd):
    level = cv2.utils.logging.getLogLevel()
    with pytest.raises(InputError) as info:
        check_source('9')  # before the model would load
    assert str(info.value) == ('cannot open camera 9 (no such camera, or '
                               'it is in use)')
    out, err = capfd.readouterr()
    assert '[ WARN' not in err and '[ERROR' not in err and out == ''
    assert cv2.utils.logging.getLogLevel() == level  # restored
    with pytest.raises(InputError):
        open_video(9)
    assert '[ WARN' not in capfd.readouterr().err
