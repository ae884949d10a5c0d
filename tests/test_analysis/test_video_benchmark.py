"""The video benchmark (dan_mm.analysis.video_benchmark) runs the package's
video loop and reports every stage; nothing here is timed."""
import json

import cv2
import pytest
from fer_test_utils import CONFIG
from mmengine.config import Config

from dan_mm.analysis.video_benchmark import (benchmark_video, format_rows,
                                             write_face_clip, write_json)
from dan_mm.inference import HaarFaceDetector, RetinaFaceDetector
from dan_mm.video import StageTimer


def test_clip_has_the_faces_a_detector_finds(tmp_path):
    clip = write_face_clip(str(tmp_path / 'five.mp4'), 5, 3)
    capture = cv2.VideoCapture(clip)
    ok, frame = capture.read()
    capture.release()
    assert ok and frame.shape == (480, 640, 3)
    # the default detector and the cascade both find all five
    assert len(RetinaFaceDetector()(frame).boxes) == 5
    assert len(HaarFaceDetector()(frame).boxes) == 5


def check_rows(rows, paths):
    assert [(r['num_faces'], r['path']) for r in rows] == \
        [(1, p) for p in paths]
    for row in rows:
        assert row['frames'] == 3 and row['faces'] == 3
        assert set(row['ms']) == set(StageTimer.STAGES) | {'other', 'total'}
        assert all(row['ms'][s] > 0 for s in StageTimer.STAGES)
        assert row['fps'] == pytest.approx(1000 / row['ms']['total'])
        assert 0 < row['detect_align_share'] < 1


def test_benchmark_reports_every_stage(tmp_path):
    paths = ('fp32', 'fast')
    rows = benchmark_video(
        Config.fromfile(CONFIG),
        num_faces=(1, ),
        paths=paths,
        num_frames=3,
        batch_size=2,
        warmup=1)
    check_rows(rows, paths)
    assert 'draw_write' in format_rows(rows)
    write_json(str(tmp_path / 'out.json'), rows, frames=3)
    saved = json.loads((tmp_path / 'out.json').read_text())
    assert saved['rows'] == json.loads(json.dumps(rows))
    assert saved['cpu'] and saved['threads'] >= 1


@pytest.mark.slow
def test_benchmark_on_onnxruntime():
    rows = benchmark_video(
        Config.fromfile(CONFIG),
        num_faces=(1, ),
        paths=('onnxruntime', ),
        num_frames=3,
        batch_size=2,
        warmup=0)
    check_rows(rows, ('onnxruntime', ))


@pytest.mark.slow
def test_benchmark_on_the_pipelined_and_int8_paths(tmp_path):
    from fer_test_utils import build_model

    from dan_mm.runtime import export
    onnx_file = str(tmp_path / 'm.onnx')  # any export of the model
    export(build_model().eval(), onnx_file, 80)
    paths = ('fp32', 'pipelined', 'int8_pipelined')
    rows = benchmark_video(
        Config.fromfile(CONFIG),
        num_faces=(1, ),
        paths=paths,
        num_frames=3,
        batch_size=2,
        warmup=0,
        onnx_file=onnx_file)
    check_rows(rows, paths)
    assert 'x fp32' in format_rows(rows)
