"""Every face in its own colour, its number on the box and on its label,
and a leader line from each moved label to its own box."""
import numpy as np
import pytest

from dan_mm.synthfer import draw_face
from dan_mm.visualization import (PALETTE, draw_faces, face_colour,
                                  face_colour_bgr, face_number, layout_faces,
                                  leader_line)
from dan_mm.visualization.palette import text_colour_bgr

CLASSES = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger',
           'Neutral')


def group(num_faces=10, size=64, gap=4, top=70, seed=0):
    """Drawn SynthFER faces side by side on a canvas, dark on the left and
    light on the right, and their results (labels wider than the faces:
    most of them must move)."""
    rng = np.random.default_rng(seed)
    width = num_faces * (size + gap) + gap
    img = np.zeros((top + size + 140, width, 3), np.uint8)
    img[:, width // 2:] = 235
    faces = []
    for i in range(num_faces):
        label = i % len(CLASSES)
        x, y = gap + i * (size + gap), top
        img[y:y + size, x:x + size] = draw_face(label, rng, size)[..., ::-1]
        faces.append(
            dict(
                box=[x, y, x + size - 1, y + size - 1],
                landmarks=[[x + 20, y + 25], [x + 44,
                                              y + 25], [x + 32, y + 38],
                           [x + 22, y + 50], [x + 42, y + 50]],
                pred_label=label,
                pred_class=CLASSES[label],
                pred_score=0.9 - 0.05 * i))
    return img, faces


def on_outline(point, box):
    x, y = point
    x1, y1, x2, y2 = box
    inside = x1 <= x <= x2 and y1 <= y <= y2
    return inside and (x in (x1, x2) or y in (y1, y2))


def test_palette_keeps_ten_faces_apart_and_repeats_after_twenty():
    colours = [face_colour(n) for n in range(1, 21)]
    assert len(set(colours)) == 20 == len(PALETTE)
    assert face_colour(21) == face_colour(1)
    rgb = np.array([face_colour_bgr(n)[::-1] for n in range(1, 11)], float)
    dist = np.linalg.norm(rgb[:, None] - rgb[None], axis=-1)
    assert dist[~np.eye(10, dtype=bool)].min() > 60
    assert face_colour_bgr(1) == (0xb4, 0x77, 0x1f)  # '#1f77b4' as BGR
    assert text_colour_bgr((255, 255, 255)) == (0, 0, 0)
    assert text_colour_bgr((40, 39, 214)) == (255, 255, 255)  # red


def test_face_number_is_the_track_id_else_the_place():
    assert face_number({'track_id': 7}, 0) == 7
    assert face_number({}, 2) == 3
    assert face_number({'track_id': None}, 0) == 1


def test_each_label_shares_its_face_colour_and_number():
    img, faces = group()
    faces[3]['track_id'] = 12  # a video face: numbered by its track
    drawn, layout = draw_faces(img, faces, return_layout=True)
    assert layout == layout_faces(faces, img.shape[:2])
    numbers = [d.number for d in layout]
    assert numbers == [1, 2, 3, 12, 5, 6, 7, 8, 9, 10]
    assert len({d.colour for d in layout}) == len(faces)
    for face, d in zip(faces, layout):
        assert d.colour == face_colour_bgr(d.number)
        assert d.text == f'#{d.number} {face["pred_class"]} ' \
            f'{face["pred_score"]:.2f}'
        # the label and the number on the box are filled with the colour
        for x, y, w, h in (d.label, d.tag):
            assert tuple(drawn[y + 1, x + 1]) == d.colour
        x, y, w, h = d.tag
        assert d.box[0] == x and y + h - 1 == d.box[3]


def test_moved_labels_have_a_line_to_their_own_box():
    img, faces = group()
    layout = layout_faces(faces, img.shape[:2])
    moved = [d for d in layout if d.leader is not None]
    assert len(moved) >= 3  # ten labels wider than their faces
    for d in layout:
        if d.leader is None:  # touches its own box
            assert leader_line(d.label, d.box) is None
            continue
        start, end = d.leader
        assert on_outline(end, d.box), d
        x, y, w, h = d.label
        assert x <= start[0] < x + w and y <= start[1] < y + h
        # no other box is nearer to where the line ends
        for other in layout:
            if other is not d:
                assert not on_outline(end, other.box)
    for i, a in enumerate(layout):  # no two labels overlap
        for b in layout[:i]:
            ax, ay, aw, ah = a.label
            bx, by, bw, bh = b.label
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh
                        and by < ay + ah), (a, b)


@pytest.mark.parametrize('num_faces', [3, 10])
def test_box_and_line_pixels_have_the_face_colour(num_faces):
    img, faces = group(num_faces)
    drawn, layout = draw_faces(img, faces, return_layout=True)
    covers = [d.label for d in layout] + [d.tag for d in layout]

    def covered(x, y):
        return any(rx <= x < rx + w and ry <= y < ry + h
                   for rx, ry, w, h in covers)

    for d in layout:
        x1, y1, x2, y2 = d.box
        outline = [(x1, y) for y in range(y1, y2 + 1)] + \
            [(x2, y) for y in range(y1, y2 + 1)] + \
            [(x, y2) for x in range(x1, x2 + 1)]
        seen = [tuple(drawn[y, x]) for x, y in outline if not covered(x, y)]
        assert seen and all(c == d.colour for c in seen), d
        if d.leader is not None:  # the line's middle, unless under a label
            (xa, ya), (xb, yb) = d.leader
            xm, ym = (xa + xb) // 2, (ya + yb) // 2
            if not covered(xm, ym):
                assert tuple(drawn[ym, xm]) == d.colour
    # landmarks: a dot of the face's colour on each point
    x, y = faces[0]['landmarks'][2]
    assert tuple(drawn[y, x]) == layout[0].colour
    assert not np.array_equal(drawn, img) and img[0, 0].tolist() == [0, 0, 0]


def test_no_landmarks_on_request_and_ids_override_the_numbers():
    img, faces = group(2)
    drawn = draw_faces(img, faces, landmarks=False, ids=[5, 9])
    x, y = faces[0]['landmarks'][2]
    assert np.array_equal(drawn[y, x], img[y, x])
    assert [d.number
            for d in layout_faces(faces, img.shape[:2], ids=[5, 9])] == [5, 9]


def test_face_style_gives_a_web_page_the_drawing_colours():
    from dan_mm.visualization import face_style
    assert face_style(3) == dict(
        number=3, colour='#2ca02c', text_colour='#000000')
    assert face_style(1)['text_colour'] == '#ffffff'  # on tab:blue
