"""Call a package function as a tool's ``main()`` would, in this process,
with the tool's parsed arguments."""
import contextlib
import io
import os
from argparse import Namespace
from typing import Callable, Tuple
from unittest import mock

from fer_test_utils import CONFIG

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


def cli_test_args(**overrides):
    """tools/test.py's parsed arguments with their defaults."""
    args = dict(
        config=CONFIG,
        checkpoint='model.pth',
        work_dir=None,
        out=None,
        out_item=None,
        cross_dataset=None,
        cfg_options=None,
        amp=False,
        show_dir=None,
        show=False,
        interval=1,
        wait_time=2,
        no_pin_memory=False,
        tta=False,
        launcher='none',
        tensorboard=False)
    args.update(overrides)
    return Namespace(**args)


def cli_train_args(**overrides):
    """tools/train.py's parsed arguments with their defaults."""
    args = dict(
        config=CONFIG,
        work_dir=None,
        resume=None,
        amp=False,
        no_validate=False,
        auto_scale_lr=False,
        no_pin_memory=False,
        no_persistent_workers=False,
        cfg_options=None,
        launcher='none',
        tensorboard=False)
    args.update(overrides)
    return Namespace(**args)
