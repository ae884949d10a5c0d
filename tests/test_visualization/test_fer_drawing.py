"""Every face in its own colour, its number by the box (off the landmarks)
and on its label, a leader line from each moved label to its own box, and
attention panels whose rows carry the face's number and colour and show
the crop in its true aspect."""
import numpy as np
import pytest

from dan_mm.synthfer import draw_face
from dan_mm.visualization import (PALETTE, draw_attention_panels, draw_faces,
                                  face_colour, face_colour_bgr, face_number,
                                  layout_faces, leader_line)
from dan_mm.visualization.fer_drawing import (PANEL_BACKGROUND, drawing_style,
                                              landmark_rects)
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
        x, y, w, h = d.tag  # just below the box's bottom left corner
        assert d.box[0] == x and y == d.box[3] + 1


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


def overlaps(a, b):
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3]
            and b[1] < a[1] + a[3])


@pytest.mark.parametrize(
    'box, img_size',
    [
        ((0, 36, 59, 99), (100, 160)),  # at the bottom left: tag beside it
        ((0, 0, 99, 99), (100, 100)),  # the whole image: tag inside
    ])
def test_number_tag_keeps_off_the_landmarks(box, img_size):
    """The number once sat in the box's bottom left corner, on a mouth
    corner: it goes below the box, else beside it, else in a free corner."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1 + 1, y2 - y1 + 1
    # eyes, nose and a wide mouth down to the box's bottom corners
    landmarks = [[x1 + 0.3 * w, y1 + 0.35 * h], [x1 + 0.7 * w, y1 + 0.35 * h],
                 [x1 + 0.5 * w, y1 + 0.55 * h], [x1 + 3, y2 - 3],
                 [x1 + 0.6 * w, y2 - 3]]
    face = dict(
        box=list(box),
        landmarks=landmarks,
        pred_label=0,
        pred_class='Surprise',
        pred_score=0.5)
    (d, ) = layout_faces([face], img_size)
    dots = landmark_rects(face, drawing_style(img_size).thickness + 2)
    assert not any(overlaps(d.tag, dot) for dot in dots)
    x, y, tw, th = d.tag
    assert 0 <= x and x + tw <= img_size[1] and 0 <= y
    assert y + th <= img_size[0]
    # touching the box: it still names that face
    assert overlaps((x - 1, y - 1, tw + 2, th + 2), (x1, y1, w, h))


def crop_face(label, track_id=None, height=80, width=40):
    """An image whose face crop is ``width x height`` of pure colour."""
    img = np.zeros((100, 120, 3), np.uint8)
    img[10:10 + height, 20:20 + width] = (0, 200, 0)
    face = dict(
        crop_box=(20, 10, 20 + width, 10 + height),
        attention_maps=np.random.default_rng(0).random((2, 3, 3)),
        pred_label=label,
        pred_class=CLASSES[label],
        pred_score=0.8)
    if track_id is not None:
        face['track_id'] = track_id
    return img, face


def test_attention_rows_carry_number_and_colour_and_keep_the_aspect():
    img, face = crop_face(3)
    _, tracked = crop_face(4, track_id=7)
    panels = draw_attention_panels(img, [face, tracked], panel_size=64)
    assert panels.shape == (128, 3 * 64, 3)
    for row, number in enumerate((1, 7)):
        top = row * 64
        colour = face_colour_bgr(number)
        # framed in the face's colour (left, right, bottom edges)...
        assert tuple(panels[top + 32, 1]) == colour
        assert tuple(panels[top + 32, 3 * 64 - 2]) == colour
        assert tuple(panels[top + 62, 100]) == colour
        # ... with its number on the first panel, filled with that colour
        assert tuple(panels[top + 7, 7]) == colour
        # a 40 x 80 crop stays 1:2: 32 px wide, dark ground either side
        middle = panels[top + 32, :64]
        green = np.flatnonzero((middle == (0, 200, 0)).all(axis=1))
        assert green.min() == 16 and green.max() == 47
        assert tuple(panels[top + 32, 10]) == PANEL_BACKGROUND
    # numbers given by the caller (the web demo draws one face at a time)
    one = draw_attention_panels(img, [face], panel_size=64, ids=[5])
    assert tuple(one[32, 1]) == face_colour_bgr(5)
    # training samples are no faces of one photo: no number, no frame
    plain = draw_attention_panels(img, [face], panel_size=64, numbered=False)
    assert tuple(plain[32, 1]) == PANEL_BACKGROUND


def test_a_square_crop_fills_its_panel():
    img, face = crop_face(0, height=50, width=50)
    panels = draw_attention_panels(img, [face], panel_size=64, numbered=False)
    assert (panels[32, :64] == (0, 200, 0)).all(axis=1).sum() == 64
