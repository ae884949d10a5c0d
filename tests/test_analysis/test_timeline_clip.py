"""The README's generated clip: faces where the script puts them, for as
long as it says, and the drawn expressions marked on the timeline."""
import cv2
import numpy as np

from dan_mm.analysis.timeline_clip import (SCRIPT, ScriptedDetector,
                                           mark_script, write_timeline_clip)
from dan_mm.video.timeline import Timeline


def test_clip_has_the_scripted_faces_and_the_detector_finds_them(tmp_path):
    clip = str(tmp_path / 'clip.mp4')
    boxes = write_timeline_clip(clip, fps=5., duration_s=6.)
    assert len(boxes) == 30
    # frame 0 (0 s): faces 1 and 2; frame 27 (5.4 s): all four
    assert len(boxes[0]) == 2 and len(boxes[27]) == 4
    capture = cv2.VideoCapture(clip)
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 30
    ok, frame = capture.read()
    capture.release()
    x1, y1, x2, y2 = boxes[0][0]
    face = frame[y1:y2 + 1, x1:x2 + 1].astype(int)
    background = frame[5:25, x1:x2 + 1].astype(int)
    assert ok and np.abs(face.mean((0, 1)) -
                         background.mean((0, 1))).max() > 10
    detector = ScriptedDetector(boxes)
    assert detector(frame).shape == (2, 4)
    assert detector(frame).tolist() == [list(b) for b in boxes[1]]


def test_the_drawn_expressions_are_marked_on_each_panel():
    classes = ['Neutral', 'Happiness']
    timeline = Timeline(classes)
    for i in range(30):
        timeline.add(
            dict(
                frame=i,
                time_s=i / 10,
                faces=[
                    dict(box=[0, 0, 9, 9], pred_scores=[0.5, 0.5], track_id=t)
                    for t in (1, 2)
                ]))
    fig = timeline.figure()
    mark_script(fig)
    for ax, (_, _, changes) in zip(fig.axes, SCRIPT):
        texts = [t.get_text() for t in ax.texts]
        assert texts == [f'drawn: {name}' for _, name in changes]
