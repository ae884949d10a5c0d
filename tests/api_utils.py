"""The tools' parsed arguments, for calling the package functions behind
them (``run_tool(run_train, cli_train_args(...))``)."""
from argparse import Namespace

from fer_test_utils import CONFIG


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
