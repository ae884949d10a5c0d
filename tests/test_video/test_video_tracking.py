"""Video: face tracks keep their ids, smoothed probabilities, detection every
N frames, track ids in predictions.jsonl and on labels that do not
overlap."""
import json

import cv2
import numpy as np
import pytest
from fer_test_utils import CONFIG, build_model, face_photo, save_checkpoint
from tool_runner import run_tool

from dan_mm.inference import FERInferencer
from dan_mm.utils.errors import ConfigError
from dan_mm.video import IoUTracker, ScoreSmoother, StageTimer, VideoInferencer
from dan_mm.video.tracking import HeldDetector, box_iou
from dan_mm.visualization import draw_faces, face_label, layout_labels


def test_box_iou():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(box_iou(a, b), [[1, 50 / 150, 0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


def test_tracker_keeps_ids_of_moving_faces_and_crossing_order():
    tracker = IoUTracker(min_iou=0.3, max_age=2)
    left, right = np.array([0., 0, 40, 40]), np.array([100., 0, 140, 40])
    for t in range(10):
        step = np.array([4. * t, 1. * t, 4. * t, 1. * t])
        # the detector's order changes from frame to frame
        boxes = [left + step, right + step]
        ids = tracker.update(np.array(boxes[::-1] if t % 2 else boxes))
        assert list(ids) == ([2, 1] if t % 2 else [1, 2])


def test_tracker_new_face_and_max_age():
    tracker = IoUTracker(min_iou=0.3, max_age=2)
    face, other = [10., 10, 50, 50], [200., 10, 240, 50]
    assert list(tracker.update(np.array([face]))) == [1]
    assert list(tracker.update(np.array([face, other]))) == [1, 2]
    # face 1 is missed for max_age frames: it survives
    for _ in range(2):
        assert list(tracker.update(np.array([other]))) == [2]
    assert tracker.track_ids == [1, 2]
    assert list(tracker.update(np.array([face, other]))) == [1, 2]
    # missed for max_age + 1 frames: dropped, and comes back as a new face
    for _ in range(3):
        tracker.update(np.array([other]))
    assert tracker.track_ids == [2]
    assert list(tracker.update(np.array([other, face]))) == [2, 3]
    # no face at all is fine
    assert tracker.update(np.zeros((0, 4))).shape == (0, )
    with pytest.raises(ConfigError, match='min_iou'):
        IoUTracker(min_iou=0)


def test_smoother_is_an_ema_with_span_window():
    smoother = ScoreSmoother(window=5)
    assert smoother.alpha == pytest.approx(1 / 3)
    p0, p1, p2 = np.eye(3, dtype=np.float32)
    np.testing.assert_allclose(smoother.update(7, p0), p0)
    s1 = smoother.update(7, p1)
    np.testing.assert_allclose(s1, [2 / 3, 1 / 3, 0], rtol=1e-6)
    np.testing.assert_allclose(
        smoother.update(7, p2), [4 / 9, 2 / 9, 1 / 3], rtol=1e-6)
    # another track starts from its own first scores; ended tracks are
    # forgotten
    np.testing.assert_allclose(smoother.update(8, p2), p2)
    smoother.keep_only([8])
    np.testing.assert_allclose(smoother.update(7, p1), p1)
    np.testing.assert_allclose(ScoreSmoother(1).update(1, p1), p1)


def test_held_detector_runs_every_n_calls():
    calls = []

    def detector(img):
        calls.append(img)
        return np.array([[len(calls), 0, 10, 10]], np.float32)

    held = HeldDetector(detector, every=3)
    outs = [held(np.zeros((4, 4, 3), np.uint8)) for _ in range(7)]
    assert len(calls) == 3
    assert [int(o[0, 0]) for o in outs] == [1, 1, 1, 2, 2, 2, 3]
    with pytest.raises(ConfigError, match='detect_every'):
        HeldDetector(detector, every=0)


def write_moving_clip(path, num_frames=6, step=3):
    """A 160x200 clip of a real face moving right by ``step`` px a frame."""
    photo = face_photo(96)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'MJPG'), 5, (200, 160))
    for t in range(num_frames):
        frame = np.full((160, 200, 3), 90, np.uint8)
        x = 10 + step * t
        frame[10:10 + photo.shape[0], x:x + photo.shape[1]] = photo
        writer.write(frame)
    writer.release()
    return str(path)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('video') / 'dan.pth'
    return save_checkpoint(build_model(), path)


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    return write_moving_clip(tmp_path_factory.mktemp('clip') / 'clip.avi')


def test_video_tracks_and_smooths(checkpoint, clip):
    inferencer = FERInferencer(CONFIG, checkpoint)
    timer = StageTimer()
    raw = list(VideoInferencer(inferencer, batch_size=4, smooth=False)(clip))
    smoothed = list(
        VideoInferencer(inferencer, smooth_window=3,
                        batch_size=4)(clip, timer=timer))
    assert [len(r['faces']) for r in raw] == [1] * 6
    assert [f['track_id'] for r in smoothed for f in r['faces']] == [1] * 6
    assert 'raw_scores' not in raw[0]['faces'][0]
    # EMA with span 3: a = 0.5
    expected = raw[0]['faces'][0]['pred_scores']
    for r, s in zip(raw, smoothed):
        p = r['faces'][0]['pred_scores']
        face = s['faces'][0]
        np.testing.assert_allclose(face['raw_scores'], p, atol=1e-5)
        expected = p if expected is None else 0.5 * p + 0.5 * expected
        np.testing.assert_allclose(face['pred_scores'], expected, atol=1e-5)
        assert face['pred_label'] == int(expected.argmax())
        assert face['pred_class'] == inferencer.classes[face['pred_label']]
    assert set(timer.seconds) == {'decode', 'detect', 'align', 'classify'}


def test_detect_every_n_frames_holds_the_boxes(checkpoint, clip):
    calls = []
    inferencer = FERInferencer(CONFIG, checkpoint)
    haar = inferencer.detector

    def counting(img):
        calls.append(1)
        return haar(img)

    inferencer.detector = counting
    video = VideoInferencer(inferencer, batch_size=4, detect_every=4)
    results = list(video(clip))
    assert len(calls) == 2  # frames 0 and 4
    boxes = [r['faces'][0]['box'] for r in results]
    assert boxes[0] == boxes[1] == boxes[2] == boxes[3] != boxes[4]
    assert boxes[4] == boxes[5]
    assert [r['faces'][0]['track_id'] for r in results] == [1] * 6
    assert inferencer.detector is counting  # never swapped


def test_infer_writes_track_ids(checkpoint, clip, tmp_path):
    out = tmp_path / 'out'
    code, stdout, stderr = run_tool('tools/infer.py', CONFIG, checkpoint, clip,
                                    '--out-dir', out, '--no-smooth',
                                    '--detect-every', 2)
    assert code == 0, stderr
    lines = [
        json.loads(line)
        for line in (out / 'predictions.jsonl').read_text().splitlines()
    ]
    assert [f['track_id'] for line in lines for f in line['faces']] == [1] * 6


def _overlap(a, b):
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3]
            and b[1] < a[1] + a[3])


def test_labels_of_neighbouring_faces_do_not_overlap():
    # five faces side by side, a few pixels apart, and two on top of each
    # other: their labels above the boxes would all overlap
    boxes = [[10 + 30 * i, 50, 60 + 30 * i, 100] for i in range(5)]
    boxes += [[200, 0, 250, 50], [205, 2, 255, 52]]
    sizes = [(90, 16)] * len(boxes)
    rects = layout_labels(boxes, sizes, (240, 320))
    for i, a in enumerate(rects):
        x, y, w, h = a
        assert (w, h) == sizes[i]
        assert 0 <= x and x + w <= 320 and 0 <= y and y + h <= 240
        for b in rects[:i]:
            assert not _overlap(a, b), (a, b)
    # the first label keeps its usual place above its box
    assert rects[0] == (10, 34, 90, 16)


def test_drawn_label_has_the_track_id():
    face = dict(
        box=[20, 30, 80, 90],
        pred_label=3,
        pred_class='Happiness',
        pred_score=0.912,
        track_id=3)
    assert face_label(face) == '#3 Happiness 0.91'
    assert face_label({**face, 'track_id': None}) == 'Happiness 0.91'
    img = np.zeros((120, 160, 3), np.uint8)
    drawn = draw_faces(img, [face, dict(face, box=[25, 32, 85, 92])])
    assert drawn.shape == img.shape and drawn.any() and not img.any()


def test_held_detector_passes_other_attributes_through():

    class Detector:
        threshold = 0.5

        def __call__(self, img):
            return np.zeros((0, 4), np.float32)

    assert HeldDetector(Detector(), every=2).threshold == 0.5
