"""Cut the faces of your photos as inference cuts them, for fine-tuning.

PHOTOS holds one folder of photos per expression (happy/, sad/, ...). Each
photo's faces are found by the model config's face detector and cut by its
face crop, exactly as tools/infer.py does for that model, and written
losslessly to OUT/<class>/<photo name>.png: the faces a model is tuned on
then look like the faces it will see. The largest face of a photo is kept
(--all-faces: every face, <photo name>_<i>.png). A photo with no face,
several faces or that cannot be read gets one line and a row in
OUT/crop_report.csv; the run goes on. Faces already in OUT are never
overwritten: run it again to continue where it stopped.

Then fine-tune (README, "Fine-tune on your own faces"):
    python tools/train.py configs/dan_r18_finetune_folder.py \
        --cfg-options data_root=OUT load_from=START_CHECKPOINT

Example:
    python tools/dataset_converters/crop_faces.py my_photos data/my_faces \
        --model configs/dan_r18_rafdb.py
"""
import argparse
import sys

from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              exit_on_user_error)

# Package parameter names -> this tool's arguments, in error messages.
ARGUMENTS = {'photos:': 'PHOTOS:', 'model:': '--model:'}


def parse_args():
    parser = argparse.ArgumentParser(
        description='Cut the faces of folders of photos (one per '
        'expression) as inference cuts them, for fine-tuning',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument(
        'photos', help='folder with one folder of photos '
        'per expression')
    parser.add_argument('out', help='output folder of faces (created)')
    parser.add_argument(
        '--model',
        required=True,
        help='config of the model to fine-tune: its face detector and '
        'face crop are used')
    parser.add_argument(
        '--all-faces',
        action='store_true',
        help='keep every face of a photo (default: the largest only)')
    parser.add_argument(
        '--no-detect',
        action='store_true',
        help='the photos already are face crops: keep them whole')
    parser.add_argument(
        '--detector',
        choices=['retinaface', 'haar'],
        help="face detector (default: the model config's, else "
        'retinaface)')
    add_debug_argument(parser)
    return parser.parse_args()


@exit_on_user_error
def main():
    args = parse_args()
    from tqdm import tqdm

    from dan_mm.inference.face_crops import crop_face_folders
    from dan_mm.utils.errors import UserError

    def problem(photo, what):
        tqdm.write(f'{photo}: {what}', file=sys.stderr)

    try:
        summary = crop_face_folders(
            args.photos,
            args.out,
            args.model,
            all_faces=args.all_faces,
            no_detect=args.no_detect,
            detector=args.detector,
            on_problem=problem)
    except UserError as err:
        message = str(err)
        for name, argument in ARGUMENTS.items():
            if message.startswith(name):
                err.args = (argument + message[len(name):], )
        raise
    print(summary.line())


if __name__ == '__main__':
    main()
