"""The pipelined video loop: a file gives every frame in order with the
sequential loop's results; a camera works on the newest frame; a failing
stage raises in the caller; stages share the cores."""
import time

import numpy as np
import pytest
from fer_test_utils import CONFIG, build_model, face_photo, save_checkpoint
from test_video_tracking import write_moving_clip

from dan_mm.inference import FERInferencer
from dan_mm.video import PipelinedVideoInferencer, VideoInferencer
from dan_mm.video import pipeline as pipeline_module
from dan_mm.video import stage_threads
from dan_mm.video.pipelined import _END, LatestFrame


@pytest.fixture(scope='module')
def inferencer(tmp_path_factory):
    checkpoint = save_checkpoint(
        build_model(),
        tmp_path_factory.mktemp('pipelined') / 'dan.pth')
    return FERInferencer(CONFIG, checkpoint)


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    return write_moving_clip(
        tmp_path_factory.mktemp('clip') / 'clip.avi', num_frames=9)


def test_a_file_gives_the_sequential_results_in_order(inferencer, clip,
                                                      tmp_path):
    kwargs = dict(batch_size=2, detect_every=2, smooth_window=3)
    expected = list(VideoInferencer(inferencer, **kwargs)(clip))
    got = list(
        PipelinedVideoInferencer(inferencer, queue_size=1, **kwargs)(
            clip, out_file=str(tmp_path / 'out.mp4')))
    assert [r['frame'] for r in got] == list(range(9))
    assert [r['time_s'] for r in got] == [r['time_s'] for r in expected]
    for e, g in zip(expected, got):
        assert len(e['faces']) == len(g['faces']) == 1
        (fe, ), (fg, ) = e['faces'], g['faces']
        assert fg['box'] == fe['box'] and fg['track_id'] == fe['track_id']
        assert fg['pred_label'] == fe['pred_label']
        np.testing.assert_allclose(
            fg['pred_scores'], fe['pred_scores'], atol=1e-6)
        np.testing.assert_allclose(
            fg['raw_scores'], fe['raw_scores'], atol=1e-6)
    assert (tmp_path / 'out.mp4').stat().st_size > 0
    # stopping early stops the threads and closes the capture
    video = PipelinedVideoInferencer(inferencer, batch_size=2)
    results = video(clip)
    next(results)
    results.close()
    assert len(list(video(clip, max_frames=3))) == 3


def test_latest_frame_keeps_only_the_newest():
    slot = LatestFrame()
    for item in (1, 2, 3):
        slot.put(item)
    assert slot.get() == 3 and slot.dropped == 2
    slot.put(4)
    slot.put(_END)  # the end is never dropped, and stays
    assert slot.get() is _END and slot.get() is _END


class FakeCamera:
    """A camera giving a frame every ``period`` seconds, forever."""

    def __init__(self, frame, period=0.005):
        self.frame, self.period, self.reads = frame, period, 0

    def read(self):
        time.sleep(self.period)
        self.reads += 1
        return True, self.frame

    def get(self, prop):
        return 1000. * self.reads * self.period

    def release(self):
        pass


def test_a_camera_works_on_the_newest_frame(inferencer, monkeypatch):
    frame = np.full((160, 200, 3), 90, np.uint8)
    photo = face_photo(96)
    frame[10:10 + photo.shape[0], 10:10 + photo.shape[1]] = photo
    camera = FakeCamera(frame)
    monkeypatch.setattr(pipeline_module, 'open_video', lambda source: camera)
    forward = inferencer.forward

    def slow_forward(*args, **kwargs):  # much slower than the camera
        time.sleep(0.05)
        return forward(*args, **kwargs)

    monkeypatch.setattr(inferencer, 'forward', slow_forward)
    lags = []
    results = []
    for result in PipelinedVideoInferencer(inferencer)(0, max_frames=6):
        results.append(result)
        lags.append(camera.reads - result['frame'])
    assert results[0]['input'] == 'camera:0' and len(results) == 6
    frames = [r['frame'] for r in results]
    assert frames == sorted(set(frames))  # in order, never repeated
    assert frames[-1] - frames[0] > 2 * len(frames)  # stale ones dropped
    # the lag stays at about one classification, it does not grow
    assert max(lags[2:]) < 4 * max(lags[:2]) + 20


def test_a_failing_stage_raises_in_the_caller(inferencer, monkeypatch):

    class BrokenCapture(FakeCamera):

        def read(self):
            raise RuntimeError('the capture broke')

    camera = BrokenCapture(None)
    monkeypatch.setattr(pipeline_module, 'open_video', lambda source: camera)
    with pytest.raises(RuntimeError, match='the capture broke'):
        list(PipelinedVideoInferencer(inferencer)('clip.mp4'))


def test_stage_threads_share_the_cores():
    assert stage_threads(2) == dict(detector=1, classifier=2)
    assert stage_threads(1) == dict(detector=1, classifier=1)
    assert stage_threads(8)['detector'] == 1
