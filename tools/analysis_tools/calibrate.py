"""Fit one temperature on the validation split; keep it with the model.

The temperature is fitted on the calibration set (the config's
val_dataloader, or with ``--calib-root`` the test split of a second copy of
the data set), never on the test split, which it is reported on: ECE, NLL
and Brier before and after, with the two reliability diagrams side by side.
The calibrated checkpoint (``--out``) is the checkpoint with
``meta['calibration']``; inference, ONNX export and int8 quantisation of it
carry the temperature on.

Example::

    python tools/analysis_tools/calibrate.py configs/dan_r18_synthfer.py \
        work_dirs/dan_r18_synthfer/epoch_5.pth --calib-root data/synthfer_calib

Everything after parsing is
:func:`dan_mm.evaluation.temperature.calibrate_checkpoint`.
"""
import argparse

from mmengine.config import DictAction

import dan_mm  # noqa: F401  (registers DAN; safe checkpoint loading)
from dan_mm.analysis.calibrate import (CalibrationSetError,
                                       calibrate_checkpoint,
                                       format_calibration_report)
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              add_trust_checkpoint_argument,
                              exit_on_user_error)
from dan_mm.utils.config import load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Fit a temperature on the validation split and report '
        'ECE, NLL and Brier on the test split before and after',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='calibrated checkpoint to write (default: '
        '<checkpoint>_calibrated.pth); the report goes beside it '
        '(<out>_calibration.json, <out>_reliability.png)')
    parser.add_argument(
        '--calib-root',
        metavar='DIR',
        help='for configs that validate on their test split (RAF-DB, '
        'SynthFER): a second copy of the data set, in the same layout, whose '
        'test split is the calibration set (SynthFER: generate_synthfer.py '
        'DIR --seed 1)')
    parser.add_argument(
        '--device', default='cpu', help='where the model runs (default: cpu)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_argument(parser)
    add_trust_checkpoint_argument(parser)
    return parser.parse_args(argv)


@exit_on_user_error
def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    try:
        report = calibrate_checkpoint(cfg, args.checkpoint, args.out,
                                      args.calib_root, args.device)
    except CalibrationSetError as err:
        raise CalibrationSetError(f'{err}: --calib-root DIR' if args.calib_root
                                  is None else f'--calib-root: {err}') from err
    print(format_calibration_report(report))
    return report


if __name__ == '__main__':
    main()
