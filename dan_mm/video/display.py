"""Whether OpenCV can open a window here, asked before one is opened.

Without a display, OpenCV's Qt build does not raise: Qt aborts the whole
process (status 134) at the first ``cv2.imshow``, after the annotated
video and ``predictions.jsonl`` were opened, which are then left empty.
:func:`check_display` tells that case apart beforehand.
"""
import os
import re
import socket
import sys
from typing import Optional

import cv2

from ..utils.errors import DisplayError


def opencv_gui() -> str:
    """OpenCV's window toolkit, from its build information: ``'QT5'``,
    ``'GTK3'``, ``'WIN32UI'``, ``'COCOA'``, ... or ``'NONE'`` (a headless
    build)."""
    match = re.search(r'^\s*GUI:\s*(\S+)', cv2.getBuildInformation(), re.M)
    return match.group(1).upper() if match else 'UNKNOWN'


def x_display_reachable(display: str, timeout: float = 1.) -> bool:
    """Whether the X server named by ``display`` (``':0'``,
    ``'localhost:10.0'``) accepts a connection.

    A display the function cannot parse counts as reachable: it then
    leaves the decision to OpenCV rather than refuse a working setup.
    """
    match = re.fullmatch(r'(.*):(\d+)(?:\.\d+)?', display.strip())
    if match is None:
        return True
    host, number = match.group(1), int(match.group(2))
    if host in ('', 'unix'):
        path = f'/tmp/.X11-unix/X{number}'
        for address in (path, '\0' + path):  # file, or Linux's abstract
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                try:
                    sock.connect(address)
                    return True
                except OSError:
                    continue
        if host == 'unix':
            return False
        host = 'localhost'  # ':0' may also be served over TCP
    try:
        with socket.create_connection((host, 6000 + number), timeout):
            return True
    except OSError:
        return False


def display_problem() -> Optional[str]:
    """Why a window cannot be shown here, or None when it can.

    Returns:
        str | None: e.g. ``'there is no display (DISPLAY is not set)'``.
    """
    gui = opencv_gui()
    if gui == 'NONE':
        return ('the installed OpenCV has no window support (a headless '
                'build)')
    if not sys.platform.startswith('linux'):
        return None  # Windows and macOS always have their window system
    display = os.environ.get('DISPLAY', '').strip()
    # OpenCV's Qt comes with the X11 (xcb) platform plugin only: under
    # Wayland it needs XWayland's DISPLAY too. GTK talks to Wayland itself.
    if not display and os.environ.get('WAYLAND_DISPLAY') and \
            not gui.startswith('QT'):
        return None
    if not display:
        return 'there is no display (DISPLAY is not set)'
    if not x_display_reachable(display):
        return f'the display DISPLAY={display} cannot be reached'
    return None


def check_display(param: str = 'show') -> None:
    """Refuse to show frames where no window can be opened.

    Args:
        param (str): What the caller calls the option in the message, e.g.
            ``'show'`` or a tool's ``'--show'``. Defaults to ``'show'``.

    Raises:
        DisplayError: No display, or an OpenCV without window support.
    """
    problem = display_problem()
    if problem is not None:
        raise DisplayError(
            f'{param}: cannot show frames in a window: {problem}; run '
            f'without {param} (the annotated video is written anyway), or '
            'on a desktop or over SSH with X forwarding (ssh -X)')
