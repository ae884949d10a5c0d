"""tools/infer.py (images, folders, videos, errors, JSON lines) and
tools/visualize_attention.py (K + 1 panels), run in this process; one run
through a real process checks the exit statuses."""
import csv
import json

import cv2
import mmcv
import numpy as np
import pytest
from fer_test_utils import (CLASSES, CONFIG, build_model, error_lines,
                            face_photo, save_checkpoint)
from tool_runner import run_tool

INFER = 'tools/infer.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('cli') / 'dan.pth'
    return save_checkpoint(build_model(), path)


def infer(checkpoint, source, out_dir, *extra):
    return run_tool(INFER, CONFIG, checkpoint, source, '--out-dir', out_dir,
                    '--batch-size', 2, *extra)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_clip(path, frame, num_frames=3):
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'MJPG'), 5,
        (frame.shape[1], frame.shape[0]))
    for shift in range(num_frames):
        writer.write(np.roll(frame, shift, axis=1))
    writer.release()
    return path


def test_image_jsonl_schema_and_outputs(checkpoint, tmp_path):
    img = face_photo(128)
    mmcv.imwrite(img, str(tmp_path / 'photo.jpg'))
    out = tmp_path / 'out'
    code, stdout, stderr = infer(checkpoint, tmp_path / 'photo.jpg', out,
                                 '--show-heads')
    assert code == 0, stderr
    assert '1 image, 1 face;' in stdout
    (line, ) = read_jsonl(out / 'predictions.jsonl')
    assert set(line) == {'input', 'frame', 'time_s', 'img_shape', 'faces'}
    assert line['input'] == str(tmp_path / 'photo.jpg')
    assert line['frame'] is None and line['img_shape'] == [150, 128]
    (face, ) = line['faces']
    assert set(face) == {
        'box', 'det_score', 'landmarks', 'crop_box', 'pred_label',
        'pred_class', 'pred_score', 'pred_scores'
    }
    assert len(face['box']) == 4 and len(face['crop_box']) == 4
    # RetinaFace (the default): five landmarks inside the box
    x1, y1, x2, y2 = face['box']
    assert 0.9 <= face['det_score'] <= 1 and len(face['landmarks']) == 5
    assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in face['landmarks'])
    assert list(face['pred_scores']) == list(CLASSES)
    assert sum(face['pred_scores'].values()) == pytest.approx(1, abs=1e-4)
    assert face['pred_class'] == CLASSES[face['pred_label']]
    assert face['pred_score'] == max(face['pred_scores'].values())
    annotated = mmcv.imread(str(out / 'photo.png'))
    assert annotated.shape == img.shape
    assert not np.array_equal(annotated, img)  # a box was drawn
    panels = mmcv.imread(str(out / 'photo_attention.png'))
    assert panels.shape == (160, 5 * 160, 3)  # input + K=4 heads


def test_detector_and_crop_flags(checkpoint, tmp_path):
    """--detector haar (no landmarks) and --crop aligned (the RAF-DB
    template, 100 px) override the defaults."""
    mmcv.imwrite(face_photo(256), str(tmp_path / 'photo.jpg'))
    code, stdout, stderr = infer(checkpoint, tmp_path / 'photo.jpg',
                                 tmp_path / 'haar', '--detector', 'haar')
    assert code == 0, stderr
    (face, ) = read_jsonl(tmp_path / 'haar' / 'predictions.jsonl')[0]['faces']
    assert face['landmarks'] is None and face['det_score'] == 1
    code, _, stderr = infer(checkpoint, tmp_path / 'photo.jpg',
                            tmp_path / 'aligned', '--crop', 'aligned',
                            '--show-heads', '--detector-threads', 1)
    assert code == 0, stderr
    (face, ) = read_jsonl(tmp_path / 'aligned' /
                          'predictions.jsonl')[0]['faces']
    assert len(face['landmarks']) == 5
    # the crop's square turned into the photo: about a face in size
    x1, y1, x2, y2 = face['crop_box']
    assert 60 < x2 - x1 < 200 and 60 < y2 - y1 < 200


def test_folder_with_an_unreadable_file(checkpoint, tmp_path):
    folder = tmp_path / 'photos'
    folder.mkdir()
    mmcv.imwrite(face_photo(128), str(folder / 'a.jpg'))
    (folder / 'b.jpg').write_text('not an image')
    out = tmp_path / 'out'
    code, _, stderr = infer(checkpoint, folder, out, '--precision', 'bf16')
    # the readable image is classified, the other recorded, exit status 1
    assert code == 1
    lines = read_jsonl(out / 'predictions.jsonl')
    assert [len(line['faces']) for line in lines] == [1, 0]
    assert lines[1]['error'].startswith(
        f'cannot read image {folder / "b.jpg"}: corrupt or not an image')
    (error, ) = error_lines(stderr)
    assert error.startswith(f'error: 1 of 2 images in {folder} could not be '
                            'read')


def test_video(checkpoint, tmp_path):
    clip = write_clip(tmp_path / 'clip.avi', face_photo(128))
    out = tmp_path / 'out'
    code, stdout, stderr = infer(checkpoint, clip, out)
    assert code == 0, stderr
    assert '3 frames, 3 faces' in stdout
    # browsers play H.264; the summary says which codec was written
    assert f'video: {out / "clip.mp4"}, H.264 (libx264 via PyAV)' in stdout
    lines = read_jsonl(out / 'predictions.jsonl')
    assert [line['frame'] for line in lines] == [0, 1, 2]
    assert all(line['input'] == str(clip) for line in lines)
    assert all(len(line['faces']) == 1 for line in lines)
    assert lines[1]['time_s'] > lines[0]['time_s']
    capture = cv2.VideoCapture(str(out / 'clip.mp4'))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, 'little')
    assert fourcc == b'h264'
    capture.release()
    # the timeline: one row per face per frame, the JSON lines' scores
    with open(out / 'timeline.csv') as f:
        rows = list(csv.DictReader(f))
    assert [int(row['frame']) for row in rows] == [0, 1, 2]
    first = lines[0]['faces'][0]
    for name, score in first['pred_scores'].items():
        assert float(rows[0][f'{name}_smoothed']) == pytest.approx(
            score, abs=1e-5)
    assert (out / 'timeline.png').stat().st_size > 0

    code, _, stderr = infer(checkpoint, clip, tmp_path / 'o2', '--no-timeline')
    assert code == 0, stderr
    assert not (tmp_path / 'o2' / 'timeline.csv').exists()
    assert not (tmp_path / 'o2' / 'timeline.png').exists()


def test_clear_errors(checkpoint, tmp_path):
    (tmp_path / 'broken.mp4').write_text('not a video')
    code, _, stderr = infer(checkpoint, tmp_path / 'broken.mp4',
                            tmp_path / 'o1')
    assert code == 1
    assert error_lines(stderr) == [
        f'error: cannot open the video {tmp_path / "broken.mp4"}'
    ]

    (tmp_path / 'broken.jpg').write_text('not an image')
    code, _, stderr = infer(checkpoint, tmp_path / 'broken.jpg',
                            tmp_path / 'o2')
    assert code == 1
    (error, ) = error_lines(stderr)
    assert error.startswith(
        f'error: cannot read image {tmp_path / "broken.jpg"}'
        ': corrupt or not an image')

    (tmp_path / 'empty.jpg').write_bytes(b'')
    code, _, stderr = infer(checkpoint, tmp_path / 'empty.jpg',
                            tmp_path / 'o5')
    assert code == 1
    assert error_lines(stderr) == [
        f'error: cannot read image {tmp_path / "empty.jpg"}: zero-byte file'
    ]

    code, _, stderr = infer(checkpoint, tmp_path / 'missing.jpg',
                            tmp_path / 'o3')
    assert code == 1
    assert error_lines(stderr) == [
        f'error: input not found: {tmp_path / "missing.jpg"}'
    ]

    mmcv.imwrite(
        np.full((64, 64, 3), 127, np.uint8), str(tmp_path / 'blank.png'))
    code, _, stderr = infer(checkpoint, tmp_path / 'blank.png',
                            tmp_path / 'o4')
    assert code == 2  # documented: no face found
    assert error_lines(stderr) == [
        f'error: no face found in {tmp_path / "blank.png"} (for aligned '
        'face crops use --no-detect)'
    ]

    code, _, stderr = infer(checkpoint, tmp_path / 'blank.png',
                            tmp_path / 'o6', '--batch-size', 0)
    assert code == 2 and 'must be >= 1' in stderr  # argparse's usage error


@pytest.mark.slow
def test_exit_status_of_a_real_process(checkpoint, tmp_path):
    """The statuses scripts see: 2 for no face, 1 for an error, one line
    and no traceback; --debug shows the traceback."""
    mmcv.imwrite(
        np.full((64, 64, 3), 127, np.uint8), str(tmp_path / 'blank.png'))
    result = run_tool(
        INFER,
        CONFIG,
        checkpoint,
        tmp_path / 'blank.png',
        '--out-dir',
        tmp_path / 'o1',
        in_process=False)
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        f'error: no face found in {tmp_path / "blank.png"} (for aligned '
        'face crops use --no-detect)'
    ]
    assert 'Traceback' not in result.stderr
    (tmp_path / 'broken.mp4').write_text('not a video')
    result = run_tool(
        INFER,
        CONFIG,
        checkpoint,
        tmp_path / 'broken.mp4',
        '--out-dir',
        tmp_path / 'o2',
        '--debug',
        in_process=False)
    assert result.returncode == 1
    assert 'Traceback' in result.stderr and 'InputError' in result.stderr


def test_synthfer_model_notes_what_it_knows(checkpoint, tmp_path):
    """A model of drawn faces says so next to its results."""
    mmcv.imwrite(face_photo(128), str(tmp_path / 'photo.png'))
    code, stdout, stderr = infer(checkpoint, tmp_path / 'photo.png',
                                 tmp_path / 'out')
    assert code == 0, stderr
    (note, ) = [line for line in stdout.splitlines() if 'note:' in line]
    assert note.startswith('note: this model was trained on drawn SynthFER '
                           'faces, not photos: its labels on real photos are '
                           'not meaningful')
    assert 'dan_r18_3rdparty_rafdb' in note and 'RAF-DB' in note
    assert 'ModelDomainWarning' not in stderr  # printed once, as the note


@pytest.mark.slow
def test_missing_device_is_one_error_line_in_a_real_process(
        checkpoint, tmp_path):
    """``--device cuda:0`` without CUDA used to end in a 34-line
    traceback."""
    import torch
    device = f'cuda:{torch.cuda.device_count()}'  # one past the last GPU
    mmcv.imwrite(face_photo(128), str(tmp_path / 'photo.png'))
    result = run_tool(
        INFER,
        CONFIG,
        checkpoint,
        tmp_path / 'photo.png',
        '--out-dir',
        tmp_path / 'o',
        '--device',
        device,
        in_process=False)
    assert result.returncode == 1
    (error, ) = error_lines(result.stderr)
    assert error.startswith(f'error: --device {device}: ')
    assert 'use --device cpu' in error or 'pick one of them' in error
    assert 'Traceback' not in result.stderr


def test_visualize_attention_panels(checkpoint, tmp_path):
    img = face_photo(128)
    two = np.concatenate([img, img[:, ::-1]], axis=1)
    mmcv.imwrite(two, str(tmp_path / 'two.png'))
    code, stdout, stderr = run_tool('tools/visualize_attention.py', CONFIG,
                                    checkpoint, tmp_path / 'two.png', '--out',
                                    tmp_path / 'att.png', '--panel-size', 96)
    assert code == 0, stderr
    assert '2 faces, 4 heads' in stdout
    panels = mmcv.imread(str(tmp_path / 'att.png'))
    assert panels.shape == (2 * 96, 5 * 96, 3)  # 2 faces x (input + K=4)
    # The heads' panels are overlays, not copies of the input panel.
    assert not np.array_equal(panels[:96, 96:192], panels[:96, :96])


def test_visualize_attention_errors(checkpoint, tmp_path):
    mmcv.imwrite(
        np.full((64, 64, 3), 127, np.uint8), str(tmp_path / 'blank.png'))
    code, _, stderr = run_tool('tools/visualize_attention.py', CONFIG,
                               checkpoint, tmp_path / 'blank.png', '--out',
                               tmp_path / 'att.png')
    assert code == 2 and error_lines(stderr) == [
        f'error: no face found in {tmp_path / "blank.png"} (for an aligned '
        'face crop use --no-detect)'
    ]
    code, _, stderr = run_tool('tools/visualize_attention.py', CONFIG,
                               tmp_path / 'nope.pth', tmp_path / 'blank.png',
                               '--out', tmp_path / 'att.png')
    assert code == 1 and error_lines(stderr) == [
        f'error: checkpoint not found: {tmp_path / "nope.pth"}'
    ]
    assert not (tmp_path / 'att.png').exists()


def test_min_confidence_marks_uncertain_faces_in_jsonl_and_timeline(
        checkpoint, tmp_path):
    clip = write_clip(tmp_path / 'clip.avi', face_photo(128), num_frames=2)
    out = tmp_path / 'out'
    code, stdout, stderr = infer(checkpoint, clip, out, '--min-confidence', 1,
                                 '--backend', 'pytorch')
    assert code == 0, stderr
    faces = [
        f for line in read_jsonl(out / 'predictions.jsonl')
        for f in line['faces']
    ]
    assert faces and all(f['uncertain'] is True for f in faces)
    assert all(f['pred_class'] in CLASSES for f in faces)  # class kept
    with open(out / 'timeline.csv') as f:
        assert [row['uncertain'] for row in csv.DictReader(f)] == ['1', '1']
    assert 'temperature' not in stdout  # an uncalibrated model: no note

    code, _, stderr = infer(checkpoint, clip, out, '--min-confidence', 1.5)
    assert code == 2 and 'not a probability from 0 to 1' in stderr
