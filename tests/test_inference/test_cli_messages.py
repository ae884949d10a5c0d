"""What a new user sees from tools/infer.py and tools/visualize_attention.py
when something is off: one ``error:`` line before any work and no broken
output, results that never overwrite each other, a summary that says what
was skipped, and no message that looks like a bug."""
import ast
import glob
import os.path as osp
import warnings

import cv2
import mmcv
import numpy as np
import pytest
from fer_test_utils import (CONFIG, REPO, build_model, error_lines, face_photo,
                            save_checkpoint)
from test_infer_cli import read_jsonl, write_clip
from tool_runner import run_tool
from tqdm import tqdm

from dan_mm.apis.batch_predict import warnings_beside
from dan_mm.inference import FERInferencer
from dan_mm.utils.cli import show_report
from dan_mm.utils.errors import DisplayError
from dan_mm.video import VideoInferencer

INFER = 'tools/infer.py'
VISUALIZE = 'tools/visualize_attention.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('messages') / 'dan.pth'
    return save_checkpoint(build_model(), path)


@pytest.fixture
def no_display(monkeypatch):
    for name in ('DISPLAY', 'WAYLAND_DISPLAY'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv('DAN_MM_DEBUG', raising=False)


def infer(checkpoint, source, out_dir, *extra):
    return run_tool(INFER, CONFIG, checkpoint, source, '--out-dir', out_dir,
                    '--detector', 'haar', *extra)


# --- one error line, before anything is written ---


def test_out_dir_that_is_a_file_or_cannot_be_made(checkpoint, tmp_path):
    photo = tmp_path / 'photo.jpg'
    mmcv.imwrite(face_photo(128), str(photo))
    (tmp_path / 'taken').write_text('x')
    code, _, stderr = infer(checkpoint, photo, tmp_path / 'taken')
    assert code == 1 and 'Traceback' not in stderr
    assert error_lines(stderr) == [
        f'error: --out-dir {tmp_path / "taken"} is a file, not a folder: '
        'give a folder (a new one is created) as --out-dir'
    ]
    code, _, stderr = infer(checkpoint, photo, tmp_path / 'taken' / 'out')
    assert code == 1 and 'Traceback' not in stderr
    (error, ) = error_lines(stderr)
    assert error.startswith(f'error: cannot write to --out-dir '
                            f'{tmp_path / "taken" / "out"}: a part of that '
                            'path is a file')


def test_show_without_a_display_writes_nothing(checkpoint, tmp_path,
                                               no_display):
    """Qt used to abort the process (status 134), leaving a 44-byte MP4
    and an empty predictions.jsonl."""
    clip = write_clip(tmp_path / 'clip.avi', face_photo(128))
    out = tmp_path / 'out'
    code, _, stderr = infer(checkpoint, clip, out, '--show')
    assert code == 1 and 'Traceback' not in stderr
    (error, ) = error_lines(stderr)
    assert error.startswith('error: --show: cannot show frames in a window: '
                            'there is no display (DISPLAY is not set); run '
                            'without --show')
    assert not out.exists()


def test_show_in_the_api_fails_before_the_video_is_opened(
        checkpoint, tmp_path, no_display):
    inferencer = FERInferencer(CONFIG, checkpoint, detector='haar')
    clip = write_clip(tmp_path / 'clip.avi', face_photo(128))
    results = VideoInferencer(inferencer)(
        clip, out_file=str(tmp_path / 'o' / 'clip.mp4'), show=True)
    with pytest.raises(DisplayError, match=r'^show: cannot show frames'):
        next(results)
    assert not (tmp_path / 'o').exists()


def test_a_missing_camera_is_one_line(checkpoint, tmp_path, capfd):
    code, _, stderr = infer(checkpoint, 9, tmp_path / 'out')
    assert code == 1
    assert error_lines(stderr) == [
        'error: cannot open camera 9 (no such camera, or it is in use)'
    ]
    assert '[ WARN' not in capfd.readouterr().err  # OpenCV's own log
    assert not (tmp_path / 'out').exists()  # before the model loaded


# --- nothing overwritten, nothing skipped without a word ---


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / 'photos'
    (folder / 'sub').mkdir(parents=True)
    img = face_photo(128)
    mmcv.imwrite(img, str(folder / 'a.jpg'))
    mmcv.imwrite(img[:, ::-1], str(folder / 'a.png'))  # another photo
    mmcv.imwrite(np.full((64, 64, 3), 127, np.uint8), str(folder / 'c.png'))
    mmcv.imwrite(img, str(folder / 'sub' / 'b.jpg'))
    (folder / 'notes.txt').write_text('not an image')
    return folder


def test_same_names_never_overwrite_and_skips_are_counted(
        checkpoint, photos, tmp_path):
    out = tmp_path / 'out'
    code, stdout, stderr = infer(checkpoint, photos, out)
    assert code == 0, stderr
    assert ('3 images, 2 faces; no face in 1 image: c.png; skipped 1 '
            'subfolder (sub; --recursive reads them) and 1 file that is '
            'not an image (notes.txt); results in') in stdout
    drawn = {p.name for p in out.glob('*.png')}
    assert drawn == {'a_jpg.png', 'a_png.png', 'c.png'}
    # two photos, two different annotated images (a.png used to be both)
    assert not np.array_equal(
        cv2.imread(str(out / 'a_jpg.png')), cv2.imread(str(out / 'a_png.png')))
    assert len(read_jsonl(out / 'predictions.jsonl')) == 3

    code, stdout, stderr = infer(checkpoint, photos, tmp_path / 'deep',
                                 '--recursive')
    assert code == 0, stderr
    assert '4 images, 3 faces' in stdout and 'subfolder' not in stdout
    assert (tmp_path / 'deep' / 'sub' / 'b.png').is_file()
    inputs = [
        line['input']
        for line in read_jsonl(tmp_path / 'deep' / 'predictions.jsonl')
    ]
    assert str(photos / 'sub' / 'b.jpg') in inputs


def test_a_folder_with_only_subfolders_says_so(checkpoint, tmp_path):
    (tmp_path / 'photos' / '2024').mkdir(parents=True)
    code, _, stderr = infer(checkpoint, tmp_path / 'photos', tmp_path / 'o')
    assert code == 1
    assert error_lines(stderr) == [
        f'error: no image files in the folder {tmp_path / "photos"}, '
        'skipped 1 subfolder (2024; --recursive reads them)'
    ]


# --- the docs hold ---


def test_the_inferencer_takes_a_list_with_a_folder(checkpoint, photos,
                                                   tmp_path):
    """docs/inference.md: "a folder ... or a list of these"."""
    inferencer = FERInferencer(CONFIG, checkpoint, detector='haar')
    photo = str(photos / 'sub' / 'b.jpg')
    results = inferencer([photo, str(photos)], show_dir=str(tmp_path / 'o'))
    assert [r['input'] for r in results] == [
        photo, *(str(photos / n) for n in ('a.jpg', 'a.png', 'c.png'))
    ]
    assert [len(r['faces']) for r in results] == [1, 1, 1, 0]
    assert {p.name
            for p in (tmp_path / 'o').glob('*.png')
            } == {'b.png', 'a_jpg.png', 'a_png.png', 'c.png'}


def test_visualize_attention_asks_for_one_image(checkpoint, photos, tmp_path):
    code, _, stderr = run_tool(VISUALIZE, CONFIG, checkpoint, photos, '--out',
                               tmp_path / 'att.png')
    assert code == 1
    assert error_lines(stderr) == [
        f'error: {photos} is a folder: give one image (for the attention '
        'panels of every image of a folder: tools/infer.py FOLDER '
        '--show-heads)'
    ]


# --- messages that do not look like bugs ---


def test_visualize_attention_notes_the_domain_as_infer_does(
        checkpoint, photos, tmp_path):
    code, stdout, stderr = run_tool(VISUALIZE, CONFIG, checkpoint,
                                    photos / 'a.jpg', '--out',
                                    tmp_path / 'att.png', '--detector', 'haar')
    assert code == 0, stderr
    assert stdout.splitlines()[0] == f'1 face, 4 heads: {tmp_path / "att.png"}'
    (note, ) = [line for line in stdout.splitlines() if 'note:' in line]
    assert note.startswith('note: this model was trained on drawn SynthFER')
    assert 'ModelDomainWarning' not in stderr and 'warn(' not in stderr
    assert 'Loads checkpoint' not in stdout + stderr


def test_infer_hides_the_checkpoint_loading_line(checkpoint, photos, tmp_path):
    code, stdout, stderr = infer(checkpoint, photos / 'a.jpg', tmp_path / 'o')
    assert code == 0, stderr
    assert 'Loads checkpoint' not in stdout + stderr
    assert any(
        line.startswith('1 image, 1 face; results in')
        for line in stdout.splitlines())


def test_warnings_get_a_line_of_their_own(checkpoint, tmp_path):
    folder = tmp_path / 'photos'
    folder.mkdir()
    mmcv.imwrite(face_photo(128), str(folder / 'a.jpg'))
    (folder / 'b.jpg').write_text('not an image')
    (folder / 'c.jpg').write_text('not an image either')
    code, _, stderr = infer(checkpoint, folder, tmp_path / 'o')
    assert code == 1
    # str.splitlines also splits at the bar's carriage returns
    warned = [
        line for line in stderr.splitlines()
        if line.startswith('warning: cannot read image')
    ]
    assert len(warned) == 2, stderr


def test_python_warnings_beside_a_progress_bar(capsys):
    show_report()  # as every tool does: the report logger prints
    bar = tqdm(range(2), desc='images')
    with warnings_beside(bar), warnings.catch_warnings():
        warnings.simplefilter('always')
        for i in bar:
            warnings.warn(f'odd photo {i}')
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if 'odd photo' in line] == [
        'warning: odd photo 0 (UserWarning)',
        'warning: odd photo 1 (UserWarning)'
    ]


def test_help_shows_the_defaults():
    code, stdout, _ = run_tool(INFER, '--help')
    assert code == 0
    text = ' '.join(stdout.split())  # argparse wraps lines
    assert '(default: work_dirs/infer)' in text
    assert 'faces at once (default: 8)' in text
    assert '(default: None)' not in text and '(default: False)' not in text


def test_every_tool_formats_help_the_same_way():
    tools = sorted(
        glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True))
    parsers = 0
    for path in tools:
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and \
                    getattr(node.func, 'attr', None) == 'ArgumentParser':
                parsers += 1
                formatter = [
                    k for k in node.keywords if k.arg == 'formatter_class'
                ]
                assert formatter and ast.unparse(formatter[0].value) == \
                    'DefaultsHelpFormatter', path
    assert parsers >= 15
