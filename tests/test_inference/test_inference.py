"""FERInferencer: detection, multi-face batching, no_detect, preprocessing,
videos."""
import cv2
import mmcv
import numpy as np
import pytest
import torch
from fer_test_utils import CONFIG, build_model, face_photo, save_checkpoint

from dan_mm.inference import BaseFaceDetector, FERInferencer, list_image_files
from dan_mm.inference.face_alignment import expand_box
from dan_mm.synthfer import draw_face
from dan_mm.utils.errors import (ConfigError, InputError, InputNotFoundError,
                                 UserError)
from dan_mm.video import (VideoInferencer, count_frames, is_video_file,
                          parse_video_source)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('fer') / 'dan.pth'
    return save_checkpoint(build_model(), path)


@pytest.fixture(scope='module')
def inferencer(checkpoint):
    return FERInferencer(CONFIG, checkpoint)


def check_face(face, classes):
    scores = face['pred_scores']
    assert scores.shape == (len(classes), )
    assert scores.sum() == pytest.approx(1.0, abs=1e-5)
    assert face['pred_label'] == int(scores.argmax())
    assert face['pred_score'] == pytest.approx(float(scores.max()))
    assert face['pred_class'] == classes[face['pred_label']]
    x1, y1, x2, y2 = face['box']
    cx1, cy1, cx2, cy2 = face['crop_box']
    assert cx1 <= x1 < x2 <= cx2 and cy1 <= y1 < y2 <= cy2


def test_detects_the_face_in_a_photo(inferencer):
    img = face_photo(128)  # 128 x 150, face in the upper middle
    (result, ) = inferencer(img)
    assert result['img_shape'] == img.shape[:2]
    assert len(result['faces']) == 1
    face = result['faces'][0]
    check_face(face, inferencer.classes)
    x1, y1, x2, y2 = face['box']
    h, w = img.shape[:2]
    assert 0.35 * w < (x1 + x2) / 2 < 0.65 * w
    assert 0.2 * h < (y1 + y2) / 2 < 0.5 * h
    assert 0.3 * w < x2 - x1 < 0.6 * w


def test_two_faces_batched_like_single(inferencer, tmp_path):
    """Two faces side by side: both found, left to right, and batching
    (faces of several images in one batch) does not change any result."""
    one = face_photo(128)
    two = np.concatenate([one, one[:, ::-1]], axis=1)
    mmcv.imwrite(two, str(tmp_path / 'two.png'))
    batched = inferencer([str(tmp_path / 'two.png'), one], batch_size=4)
    assert [len(r['faces']) for r in batched] == [2, 1]
    assert batched[0]['input'] == str(tmp_path / 'two.png')
    left, right = batched[0]['faces']
    assert left['box'][2] <= 128 <= right['box'][0]
    single = inferencer([str(tmp_path / 'two.png'), one], batch_size=1)
    for res_b, res_s in zip(batched, single):
        for face_b, face_s in zip(res_b['faces'], res_s['faces']):
            assert face_b['box'] == face_s['box']
            np.testing.assert_allclose(
                face_b['pred_scores'], face_s['pred_scores'], atol=1e-5)


def test_no_detect_matches_the_model_on_the_whole_image(checkpoint):
    """no_detect: one face = the whole image, preprocessed like the test
    pipeline (pillow resize, BGR -> RGB, ImageNet mean/std)."""
    inferencer = FERInferencer(CONFIG, checkpoint, no_detect=True)
    rgb = draw_face(3, np.random.default_rng(0), 64)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    (result, ) = inferencer(bgr)
    (face, ) = result['faces']
    assert face['box'] == [0, 0, 64, 64] and face['crop_box'] == [0, 0, 64, 64]

    resized = mmcv.imresize(
        rgb, (80, 80), backend='pillow',
        interpolation='bilinear').astype(np.float32)
    mean = np.array([123.675, 116.28, 103.53], np.float32)
    std = np.array([58.395, 57.12, 57.375], np.float32)
    x = torch.from_numpy((resized - mean) / std).permute(2, 0, 1)[None]
    with torch.no_grad():
        expected = inferencer.model(x, mode='tensor').softmax(1)[0].numpy()
    np.testing.assert_allclose(face['pred_scores'], expected, atol=1e-5)


def test_blank_image_has_no_face_and_bad_input_raises(inferencer, tmp_path):
    (result, ) = inferencer(np.full((64, 64, 3), 127, np.uint8))
    assert result['faces'] == []
    (tmp_path / 'broken.jpg').write_text('not an image')
    with pytest.raises(InputError, match='broken.jpg'):
        inferencer(str(tmp_path / 'broken.jpg'))
    # a user error, and the built-in type a Python caller expects
    with pytest.raises(InputNotFoundError, match='missing.jpg') as info:
        inferencer(str(tmp_path / 'missing.jpg'))
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, UserError)
    (skipped, ) = inferencer.iter_results(
        str(tmp_path / 'broken.jpg'), skip_errors=True)
    assert 'broken.jpg' in skipped['error'] and skipped['faces'] == []


def test_folder_input_is_sorted_and_filtered(inferencer, tmp_path):
    img = face_photo(128)
    for name in ('b.png', 'a.jpg'):
        mmcv.imwrite(img, str(tmp_path / name))
    (tmp_path / 'notes.txt').write_text('not an image')
    (tmp_path / 'C.PNG').write_bytes(b'')  # upper case counts
    assert list_image_files(str(tmp_path)) == [
        str(tmp_path / name) for name in ('C.PNG', 'a.jpg', 'b.png')
    ]
    (tmp_path / 'C.PNG').unlink()
    results = inferencer(str(tmp_path), batch_size=2)
    assert [r['input'] for r in results
            ] == [str(tmp_path / 'a.jpg'),
                  str(tmp_path / 'b.png')]


def test_pluggable_detector_and_margin(checkpoint):

    class FixedBox(BaseFaceDetector):

        def detect(self, img):
            return [[10, 20, 50, 60]]

    inferencer = FERInferencer(
        CONFIG, checkpoint, detector=FixedBox(), margin=0.25)
    (result, ) = inferencer(face_photo(128))
    (face, ) = result['faces']
    assert face['box'] == [10, 20, 50, 60]
    assert face['crop_box'] == [0, 10, 60, 70]
    assert expand_box([0, 0, 10, 10], 0.5, (8, 12)).tolist() == [0, 0, 12, 8]


def test_return_maps_are_the_neck_attention_maps(inferencer):
    (result, ) = inferencer(face_photo(128), return_maps=True)
    (face, ) = result['faces']
    # 80x80 input -> 3x3 backbone output; K = 4 heads.
    assert face['attention_maps'].shape == (4, 3, 3)
    assert (face['attention_maps'] >= 0).all()  # ReLU, then a sum


def test_fast_paths_agree(checkpoint, inferencer):
    img = face_photo(128)
    (reference, ) = inferencer(img)
    fast = FERInferencer(CONFIG, checkpoint, deploy=True, channels_last=True)
    assert fast.model.deploy
    (result, ) = fast(img)
    np.testing.assert_allclose(
        result['faces'][0]['pred_scores'],
        reference['faces'][0]['pred_scores'],
        atol=1e-4)
    bf16 = FERInferencer(CONFIG, checkpoint, precision='bf16')
    (result, ) = bf16(img)
    scores = result['faces'][0]['pred_scores']
    assert scores.dtype == np.float32
    assert scores.sum() == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(
        scores, reference['faces'][0]['pred_scores'], atol=0.1)
    with pytest.raises(ConfigError, match='precision'):
        FERInferencer(CONFIG, checkpoint, precision='int8')


def write_clip(path, frames):
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'MJPG'), 5,
        (frames[0].shape[1], frames[0].shape[0]))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return str(path)


def test_video_frames_match_images_and_are_written(inferencer, tmp_path):
    photo = face_photo(128)
    blank = np.full_like(photo, 127)
    clip = write_clip(tmp_path / 'clip.avi', [photo, blank, photo[:, ::-1]])
    assert is_video_file(clip) and not is_video_file('a.jpg')
    assert count_frames(clip) == 3
    out = tmp_path / 'out' / 'clip.mp4'
    results = list(
        VideoInferencer(inferencer, batch_size=2)(clip, out_file=out))
    assert [r['frame'] for r in results] == [0, 1, 2]
    assert all(r['input'] == clip for r in results)
    assert [len(r['faces']) for r in results] == [1, 0, 1]
    assert 0 <= results[0]['time_s'] < results[1]['time_s']
    # a frame gives what the same (decoded) image gives
    capture = cv2.VideoCapture(clip)
    _, first = capture.read()
    capture.release()
    (expected, ) = inferencer(first)
    np.testing.assert_allclose(
        results[0]['faces'][0]['pred_scores'],
        expected['faces'][0]['pred_scores'],
        atol=1e-5)
    written = cv2.VideoCapture(str(out))
    assert int(written.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    written.release()
    # max_frames stops early (a camera never ends)
    assert len(list(VideoInferencer(inferencer)(clip, max_frames=2))) == 2


def test_video_errors(inferencer, tmp_path):
    assert parse_video_source('0') == 0
    assert parse_video_source('clip.mp4') == 'clip.mp4'
    with pytest.raises(InputNotFoundError, match='missing.mp4'):
        next(VideoInferencer(inferencer)(str(tmp_path / 'missing.mp4')))
    (tmp_path / 'broken.mp4').write_text('not a video')
    with pytest.raises(InputError, match='cannot open the video'):
        next(VideoInferencer(inferencer)(str(tmp_path / 'broken.mp4')))
