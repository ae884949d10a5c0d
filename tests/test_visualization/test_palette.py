"""The class colours stay apart, for colour-blind readers too, and every
plot that colours classes takes them from one palette."""
import itertools

import numpy as np

from dan_mm.video import Timeline
from dan_mm.visualization import CLASS_PALETTE, class_colours

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
DICHROMACY = {
    'protanopia': [[0.152286, 1.052583, -0.204868],
                   [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    'deuteranopia': [[0.367322, 0.860646, -0.227968],
                     [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    'tritanopia': [[1.255528, -0.076749, -0.178779],
                   [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
    'normal vision':
    np.eye(3),
}
SRGB_TO_XYZ = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
               [0.0193, 0.1192, 0.9505]]
WHITE = np.array([0.95047, 1.0, 1.08883])


def to_lab(hex_colour: str, seen_as) -> np.ndarray:
    """CIELAB (D65) of ``#rrggbb`` as a viewer with ``seen_as`` sees it."""
    srgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92,
                      ((srgb + 0.055) / 1.055)**2.4)
    linear = np.clip(np.asarray(seen_as) @ linear, 0, 1)
    xyz = np.asarray(SRGB_TO_XYZ) @ linear / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array(
        [116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def min_delta_e(colours, seen_as) -> float:
    labs = [to_lab(c, seen_as) for c in colours]
    return min(
        float(np.linalg.norm(a - b))
        for a, b in itertools.combinations(labs, 2))


def test_eight_class_colours_stay_apart_for_colour_blind_readers():
    # CIE76 distance >= 15: clearly different lines. matplotlib's Dark2 +
    # Set1, the colours before, came to 2.1 (protanopia: Fear and Neutral)
    # and 5.8 (deuteranopia).
    assert len(set(CLASS_PALETTE)) == len(CLASS_PALETTE) == 8
    for name, seen_as in DICHROMACY.items():
        for num_classes in (7, 8):  # RAF-DB, AffectNet-8
            distance = min_delta_e(class_colours(num_classes), seen_as)
            assert distance >= 15, (name, num_classes, distance)


def test_timeline_lines_take_the_class_palette():
    classes = [
        'Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger',
        'Neutral'
    ]
    timeline = Timeline(classes)
    for frame in range(30):
        scores = np.full(7, 0.1)
        scores[frame % 7] = 0.4
        timeline.add(
            dict(
                frame=frame,
                time_s=frame / 10,
                faces=[
                    dict(
                        track_id=1,
                        box=[0, 0, 9, 9],
                        pred_scores=scores / scores.sum(),
                        pred_label=frame % 7,
                        pred_score=0.4)
                ]))
    fig = timeline.figure()
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == classes
    assert [line.get_color() for line in lines] == class_colours(7)
