"""Call a package function as a tool's ``main()`` would, in this process."""
import contextlib
import io
import os
from typing import Callable, Tuple
from unittest import mock

from dan_mm.utils.cli import exit_on_user_error


def call_api(func: Callable, *args, **kwargs) -> Tuple[int, str, str]:
    """Run ``func`` under :func:`~dan_mm.utils.cli.exit_on_user_error`.

    A user error ends as the tool would: one ``error:`` line on stderr and
    exit status 1. The environment is restored afterwards.

    Returns:
        tuple: ``(exit status, stdout, stderr)``; 0 when ``func`` returns.
    """
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with mock.patch.dict(os.environ), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            exit_on_user_error(func)(*args, **kwargs)
        except SystemExit as exit_:
            code = exit_.code or 0
    return code, out.getvalue(), err.getvalue()
