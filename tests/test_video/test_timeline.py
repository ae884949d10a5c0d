"""The video timeline: timeline.csv (one row per face per frame, loadable by
pandas as it is) and timeline.png (a panel per track lasting over 1 s)."""
import csv

import numpy as np
import pytest

from dan_mm.inference.predictions import prediction_record
from dan_mm.video.timeline import Timeline

CLASSES = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger',
           'Neutral')


def frame_result(frame, fps, track_ids, rng):
    """A result as VideoInferencer yields it (smoothed): one face per track."""
    faces = []
    for k, track in enumerate(track_ids):
        raw = rng.dirichlet(np.ones(len(CLASSES)))
        smoothed = (raw + 1 / len(CLASSES)) / 2
        label = int(smoothed.argmax())
        faces.append(
            dict(
                box=np.array([10 + 60 * k, 20, 60 + 60 * k, 80], np.float32),
                crop_box=[10 + 60 * k, 20, 60 + 60 * k, 80],
                pred_label=label,
                pred_class=CLASSES[label],
                pred_score=float(smoothed[label]),
                pred_scores=smoothed,
                raw_scores=raw,
                track_id=track))
    return dict(
        input='clip.mp4',
        frame=frame,
        time_s=frame / fps,
        img_shape=(120, 320),
        faces=faces)


def clip_results(num_frames=30, fps=10., tracks=(1, 2, 3)):
    rng = np.random.default_rng(0)
    return [frame_result(i, fps, tracks, rng) for i in range(num_frames)]


def test_csv_has_a_row_per_face_per_frame_and_loads_in_pandas(tmp_path):
    pandas = pytest.importorskip('pandas')
    results = clip_results(num_frames=12, tracks=(4, 7))
    timeline = Timeline(CLASSES)
    for result in results:
        timeline.add(result)
    path = timeline.write_csv(str(tmp_path / 'timeline.csv'))
    table = pandas.read_csv(path)
    assert list(table.columns) == [
        'frame', 'time_s', 'track_id', 'x1', 'y1', 'x2', 'y2', 'pred_class'
    ] + [f'{c}_smoothed' for c in CLASSES] + [f'{c}_raw' for c in CLASSES]
    assert len(table) == 12 * 2
    assert table['frame'].tolist() == [i for i in range(12) for _ in '12']
    assert np.allclose(table['time_s'], table['frame'] / 10., atol=1e-3)
    assert table['track_id'].tolist() == [4, 7] * 12
    # each frame's face: its raw and smoothed probabilities, in the
    # classes' order, and the smoothed top class
    last = results[-1]['faces'][1]
    row = table.iloc[-1]
    assert np.allclose(
        row[[f'{c}_raw' for c in CLASSES]].to_numpy(float),
        last['raw_scores'],
        atol=1e-6)
    assert np.allclose(
        row[[f'{c}_smoothed' for c in CLASSES]].to_numpy(float),
        last['pred_scores'],
        atol=1e-6)
    assert row['pred_class'] == last['pred_class']
    assert row[['x1', 'y1', 'x2', 'y2']].tolist() == [70, 20, 120, 80]


def test_records_of_predictions_jsonl_feed_it_too(tmp_path):
    """prediction_record has class-keyed scores and no raw ones: the class
    names come from the record, raw = the scores (an unsmoothed run)."""
    results = clip_results(num_frames=3, tracks=(1, ))
    timeline = Timeline()
    for result in results:
        timeline.add(prediction_record(result, CLASSES))
    assert timeline.classes == list(CLASSES)
    path = timeline.write_csv(str(tmp_path / 'timeline.csv'))
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert rows[0]['Happiness_raw'] == rows[0]['Happiness_smoothed']


def test_frames_without_a_time_take_it_from_the_fps():
    timeline = Timeline(CLASSES, fps=4.)
    result = clip_results(num_frames=1)[0]
    timeline.add(dict(result, frame=6, time_s=None))
    assert timeline.table()[:, 1].tolist() == [1.5] * 3


def test_a_panel_per_track_lasting_over_a_second():
    fps = 10.
    timeline = Timeline(CLASSES)
    rng = np.random.default_rng(1)
    # track 1: 0-2.9 s, track 2: 0-0.9 s, track 3: 1-2.9 s, track 5:
    # exactly 1 s (0-1.0): too short
    for i in range(30):
        tracks = [1] + ([2] if i < 10 else []) + ([3] if i >= 10 else [])
        tracks += [5] if i <= 10 else []
        timeline.add(frame_result(i, fps, tracks, rng))
    fig = timeline.figure(min_track_s=1.0)
    titles = [ax.get_title(loc='left').strip() for ax in fig.axes]
    assert titles == ['#1', '#3']
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(CLASSES)
    assert fig.axes[-1].get_xlabel() == 'time (s)'
    # the line of class c is the smoothed probability of c over time
    (ax1, ax3) = fig.axes
    happiness = ax3.get_lines()[CLASSES.index('Happiness')]
    times = happiness.get_xdata()
    assert np.isclose(times[0], 1.0) and np.isclose(times[-1], 2.9)
    rows = timeline.tracks()[3]
    assert np.allclose(happiness.get_ydata(),
                       rows[:, 7 + CLASSES.index('Happiness')])


def test_no_long_track_no_panel_and_the_png_says_so(tmp_path):
    timeline = Timeline(CLASSES)
    for result in clip_results(num_frames=5, tracks=(1, 2)):
        timeline.add(result)
    fig = timeline.figure()
    assert fig.axes == [] and 'no face was tracked' in fig.texts[0].get_text()
    csv_path, png_path = timeline.write(str(tmp_path / 'out'))
    assert open(png_path, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'
    assert csv_path.endswith('timeline.csv')


def test_many_tracks_show_the_longest():
    timeline = Timeline(CLASSES)
    rng = np.random.default_rng(2)
    for i in range(40):  # track t lives from frame t to the end
        timeline.add(
            frame_result(i, 10., [t for t in range(1, 6) if i >= t], rng))
    fig = timeline.figure(max_panels=2)
    assert [ax.get_title(loc='left').strip()
            for ax in fig.axes] == ['#1', '#2']
    assert 'the 2 longest of 5 tracks' in fig.get_suptitle()


def test_uncertain_faces_get_a_column_and_grey_bands(tmp_path):
    timeline = Timeline(['A', 'B'], fps=10)
    for frame in range(20):
        p = 0.9 if frame < 10 else 0.55
        timeline.add(
            dict(
                frame=frame,
                faces=[
                    dict(
                        box=[0, 0, 10, 10],
                        pred_scores=[p, 1 - p],
                        track_id=1,
                        uncertain=p < 0.6)
                ]))
    csv_path, _ = timeline.write(str(tmp_path))
    rows = list(csv.DictReader(open(csv_path)))
    assert [r['uncertain'] for r in rows] == ['0'] * 10 + ['1'] * 10
    assert rows[15]['pred_class'] == 'A'  # the class stays
    fig = timeline.figure()
    bands = [p for p in fig.axes[0].patches if p.get_label() == 'uncertain']
    assert len(bands) == 1  # one stretch, frames 10-19
    # a run without a threshold keeps today's columns
    plain = Timeline(['A', 'B'], fps=10)
    plain.add(
        dict(frame=0, faces=[dict(box=[0, 0, 1, 1], pred_scores=[1, 0])]))
    assert 'uncertain' not in plain.columns()
