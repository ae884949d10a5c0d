"""Measure the five-point template of your aligned training faces.

Detects the landmarks of every image of FOLDER (e.g. RAF-DB's
``Image/aligned``), rejects images without a face and outlying faces, and
prints the ``face_crop`` line to paste into the data config (RAF-DB's
authors do not publish their template; dan_mm ships an approximation).

Example:
    python tools/analysis_tools/fit_face_template.py data/rafdb/Image/aligned
"""
import argparse
from typing import Optional, Sequence

from dan_mm.analysis import fit_face_template
from dan_mm.inference import RetinaFaceDetector, list_image_files
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              exit_on_user_error)
from dan_mm.utils.errors import InputError, InputNotFoundError


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Fit the face_crop template of aligned face images',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('folder', help='folder of aligned face images')
    parser.add_argument(
        '--max-images',
        type=int,
        default=2000,
        help='use at most this many images (spread over the folder)')
    parser.add_argument(
        '--threads', type=int, default=None, help='detector CPU threads')
    add_debug_argument(parser)
    return parser.parse_args(argv)


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    try:
        files = list_image_files(args.folder)
    except FileNotFoundError:
        raise InputNotFoundError(f'folder not found: {args.folder}') from None
    if not files:
        raise InputError(f'no image files in the folder {args.folder}')
    step = max(1, len(files) // args.max_images)
    files = files[::step][:args.max_images]
    detector = RetinaFaceDetector(score_thr=0.5, num_threads=args.threads)
    fit = fit_face_template(files, detector)
    print(f'{len(files)} images: {fit.num_used} used, {fit.num_no_face} '
          f'without a face, {fit.num_outliers} outliers rejected; '
          f'size {fit.size} px. Paste into the data config:')
    print(fit.config_line())


if __name__ == '__main__':
    main()
