"""tools/infer.py (images, videos, errors, JSON lines) and
tools/visualize_attention.py (K + 1 panels)."""
import json

import cv2
import mmcv
import numpy as np
import pytest
from fer_test_utils import (CONFIG, build_model, error_lines, face_photo,
                            run_tool, save_checkpoint)

CLASSES = [
    'Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral'
]


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('cli') / 'dan.pth'
    return save_checkpoint(build_model(seed=3), path)


def infer(checkpoint, source, out_dir, *extra):
    return run_tool('infer.py', CONFIG, checkpoint, source, '--out-dir',
                    out_dir, '--batch-size', 2, *extra)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_image_jsonl_schema_and_outputs(checkpoint, tmp_path):
    img = face_photo(128)
    mmcv.imwrite(img, str(tmp_path / 'photo.jpg'))
    out = tmp_path / 'out'
    result = infer(checkpoint, tmp_path / 'photo.jpg', out, '--show-heads')
    assert result.returncode == 0, result.stderr
    (line, ) = read_jsonl(out / 'predictions.jsonl')
    assert set(line) == {'input', 'frame', 'time_s', 'img_shape', 'faces'}
    assert line['input'] == str(tmp_path / 'photo.jpg')
    assert line['frame'] is None and line['img_shape'] == [150, 128]
    (face, ) = line['faces']
    assert set(face) == {
        'box', 'crop_box', 'pred_label', 'pred_class', 'pred_score',
        'pred_scores'
    }
    assert len(face['box']) == 4 and len(face['crop_box']) == 4
    assert list(face['pred_scores']) == CLASSES
    assert sum(face['pred_scores'].values()) == pytest.approx(1, abs=1e-4)
    assert face['pred_class'] == CLASSES[face['pred_label']]
    assert face['pred_score'] == max(face['pred_scores'].values())
    annotated = mmcv.imread(str(out / 'photo.png'))
    assert annotated.shape == img.shape
    assert not np.array_equal(annotated, img)  # a box was drawn
    panels = mmcv.imread(str(out / 'photo_attention.png'))
    assert panels.shape == (160, 5 * 160, 3)  # input + K=4 heads


def test_video(checkpoint, tmp_path):
    frame = face_photo(128)
    writer = cv2.VideoWriter(
        str(tmp_path / 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 5,
        (frame.shape[1], frame.shape[0]))
    for shift in range(3):
        writer.write(np.roll(frame, shift, axis=1))
    writer.release()
    out = tmp_path / 'out'
    result = infer(checkpoint, tmp_path / 'clip.avi', out)
    assert result.returncode == 0, result.stderr
    lines = read_jsonl(out / 'predictions.jsonl')
    assert [line['frame'] for line in lines] == [0, 1, 2]
    assert all(len(line['faces']) == 1 for line in lines)
    assert lines[1]['time_s'] > lines[0]['time_s']
    capture = cv2.VideoCapture(str(out / 'clip.mp4'))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    capture.release()


def test_clear_errors(checkpoint, tmp_path):
    (tmp_path / 'broken.mp4').write_text('not a video')
    result = infer(checkpoint, tmp_path / 'broken.mp4', tmp_path / 'o1')
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        f'error: cannot open the video {tmp_path / "broken.mp4"}'
    ]
    assert 'Traceback' not in result.stderr

    (tmp_path / 'broken.jpg').write_text('not an image')
    result = infer(checkpoint, tmp_path / 'broken.jpg', tmp_path / 'o2')
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert 'cannot read the image' in result.stderr

    mmcv.imwrite(
        np.full((64, 64, 3), 127, np.uint8), str(tmp_path / 'blank.png'))
    result = infer(checkpoint, tmp_path / 'blank.png', tmp_path / 'o3')
    assert result.returncode == 2
    assert 'no face found' in result.stderr and '--no-detect' in \
        result.stderr
    result = infer(checkpoint, tmp_path / 'blank.png', tmp_path / 'o4',
                   '--no-detect')
    assert result.returncode == 0, result.stderr


def test_visualize_attention_panels(checkpoint, tmp_path):
    img = face_photo(128)
    two = np.concatenate([img, img[:, ::-1]], axis=1)
    mmcv.imwrite(two, str(tmp_path / 'two.png'))
    result = run_tool('visualize_attention.py', CONFIG, checkpoint,
                      tmp_path / 'two.png', '--out', tmp_path / 'att.png',
                      '--panel-size', 96)
    assert result.returncode == 0, result.stderr
    panels = mmcv.imread(str(tmp_path / 'att.png'))
    assert panels.shape == (2 * 96, 5 * 96, 3)  # 2 faces x (input + K=4)
    # The heads' panels are overlays, not copies of the input panel.
    assert not np.array_equal(panels[:96, 96:192], panels[:96, :96])
