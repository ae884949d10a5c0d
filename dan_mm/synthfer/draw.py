"""Drawing one SynthFER face: the expression cues of each class.

Every class is a combination of cues in three face regions (brows, eyes,
mouth), and no single region tells the classes apart: each mouth, eye or
brow shape is shared by two or three classes, so a model must look at
several regions at once, which is what DAN's multiple heads are for. Some
pairs differ in one region only, as surprise and fear do in real faces
(Surprise/Fear and Anger/Disgust: the mouth; Sadness/Fear: the eyes), and
every expression differs from Neutral in two regions or more. Faces vary in
position, scale, rotation, skin and background colour, lighting, cue
intensity and noise, and some are partly occluded.
"""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from ..datasets.categories import RAFDB_CATEGORIES

# (brows, eyes, mouth) of each class, in RAF-DB order.
EXPRESSION_CUES: Dict[str, Tuple[str, str, str]] = {
    'Surprise': ('raised', 'wide', 'open'),
    'Fear': ('raised', 'wide', 'frown'),
    'Disgust': ('lowered', 'narrow', 'frown'),
    'Happiness': ('neutral', 'narrow', 'smile'),
    'Sadness': ('raised', 'normal', 'frown'),
    'Anger': ('lowered', 'narrow', 'closed'),
    'Neutral': ('neutral', 'normal', 'closed'),
}
assert tuple(EXPRESSION_CUES) == RAFDB_CATEGORIES

CANVAS = 200  # drawn at 2x, then resized to the output size (anti-aliasing)
SKIN_TONES = np.array(
    [[224, 172, 105], [241, 194, 125], [255, 219, 172], [198, 134, 66],
     [141, 85, 36], [255, 205, 148], [234, 192, 134], [110, 70, 40]],
    dtype=np.float32)
# Each tone's group, by its luma (light >= 195 > medium >= 140 > dark): the
# "skin tone" attribute written beside the images (dan_mm/synthfer/write.py).
SKIN_TONE_GROUPS = ('light', 'medium', 'dark')
SKIN_TONE_GROUP = tuple(
    0 if luma >= 195 else 1 if luma >= 140 else 2
    for luma in SKIN_TONES @ np.array([0.299, 0.587, 0.114], np.float32))
APPARENT_AGES = ('young', 'older')


def _polyline(img, points, color, thickness):
    pts = np.round(np.asarray(points) * 16).astype(np.int32)
    cv2.polylines(img, [pts], False, color, thickness, cv2.LINE_AA, shift=4)


def _draw_brows(img, rng, cx, cy, kind, color, a):
    for side in (-1, 1):
        ex, by = cx + side * 24, cy - 36
        inner, outer = ex - side * 12, ex + side * 12
        if kind == 'neutral':
            ys = (by, by - 2, by)
        elif kind == 'raised':
            lift = 8 * a
            ys = (by - lift, by - lift - 5 * a, by - lift)
        else:  # lowered and pulled together
            ys = (by + 8 * a, by + 3 * a, by - 1)
        _polyline(img, [(inner, ys[0]), (ex, ys[1]), (outer, ys[2])], color,
                  int(rng.integers(3, 6)))


def _draw_eyes(img, rng, cx, cy, kind, a):
    for side in (-1, 1):
        center = (int(cx + side * 24), int(cy - 18))
        if kind == 'narrow':
            cv2.ellipse(img, center, (11, max(1, int(2 * a))), 0, 0, 360,
                        (30, 20, 20), -1, cv2.LINE_AA)
            continue
        height = 5 if kind == 'normal' else int(8 + 3 * a)
        cv2.ellipse(img, center, (11, height), 0, 0, 360, (245, 245, 245), -1,
                    cv2.LINE_AA)
        cv2.ellipse(img, center, (11, height), 0, 0, 360, (40, 30, 30), 1,
                    cv2.LINE_AA)
        iris = (int(rng.integers(20, 120)), ) * 3
        cv2.circle(img, center, 4, iris, -1, cv2.LINE_AA)
        cv2.circle(img, center, 2, (10, 10, 10), -1, cv2.LINE_AA)


def _draw_mouth(img, rng, cx, cy, kind, a):
    my, half = cy + 38, 16 + 3 * a
    lip = (int(rng.integers(90, 160)), 40, 50)
    if kind == 'open':
        cv2.ellipse(img, (int(cx), int(my)), (int(9 * a + 2), int(12 * a + 2)),
                    0, 0, 360, (50, 10, 20), -1, cv2.LINE_AA)
        cv2.ellipse(img, (int(cx), int(my)), (int(9 * a + 2), int(12 * a + 2)),
                    0, 0, 360, lip, 3, cv2.LINE_AA)
        return
    xs = np.linspace(-half, half, 15)
    bend = {'closed': 0.0, 'smile': 9 * a, 'frown': -9 * a}[kind]
    ys = my + bend * (1 - (xs / half)**2) - bend / 2
    _polyline(img, np.stack([cx + xs, ys], 1), lip, int(rng.integers(3, 5)))


def _draw_age_lines(img, cx, cy, rx, skin):
    """Forehead lines and nasolabial folds of an older face (no randomness:
    the other draws stay those of the same face drawn young)."""
    line = tuple(int(v * 0.7) for v in skin)
    for dy in (0, 9, 18):
        half = rx * 0.45 - dy * 0.3
        xs = np.linspace(-half, half, 9)
        ys = cy - 62 + dy + 3 * (xs / half)**2
        _polyline(img, np.stack([cx + xs, ys], 1), line, 2)
    for side in (-1, 1):
        _polyline(img, [(cx + side * 14, cy + 12), (cx + side * 22, cy + 30),
                        (cx + side * 24, cy + 44)], line, 2)


def draw_face(label: int,
              rng: np.random.Generator,
              size: int = 100,
              older: bool = False,
              attributes: Optional[dict] = None) -> np.ndarray:
    """Draw one face showing expression ``label`` (0-based, RAF-DB order).

    Args:
        label (int): Class index in ``RAFDB_CATEGORIES``.
        rng (np.random.Generator): Source of all randomness.
        size (int): Output side length. Defaults to 100 (RAF-DB aligned).
        older (bool): Draw an older face: grey hair, forehead lines and
            nasolabial folds. It takes nothing from ``rng``: every other
            draw is that of the same face drawn young. Defaults to False.
        attributes (dict, optional): Filled with the face's ``skin_tone``
            (index in :data:`SKIN_TONE_GROUPS`), ``apparent_age`` (index in
            :data:`APPARENT_AGES`) and ``landmarks`` ``(5, 2)`` (eye
            centres, nose tip, mouth corners, in output pixels).

    Returns:
        np.ndarray: An RGB uint8 image ``(size, size, 3)``.
    """
    brows, eyes, mouth = EXPRESSION_CUES[RAFDB_CATEGORIES[label]]
    # Background: a random colour with a soft gradient.
    bg = rng.uniform(0, 255, 3)
    ramp = np.linspace(-1, 1, CANVAS, dtype=np.float32)
    img = bg + rng.uniform(-40, 40) * ramp[None, :, None] + \
        rng.uniform(-40, 40) * ramp[:, None, None]
    img = np.clip(img, 0, 255).astype(np.uint8).copy()

    cx, cy = CANVAS / 2, CANVAS / 2
    tone = int(rng.integers(len(SKIN_TONES)))
    skin = SKIN_TONES[tone] + rng.uniform(-15, 15, 3)
    skin = tuple(int(v) for v in np.clip(skin, 0, 255))
    hair = tuple(int(v) for v in rng.uniform(0, 90, 3))
    rx, ry = int(rng.uniform(58, 68)), int(rng.uniform(74, 84))
    if rng.random() < 0.7:  # hair
        grey = tuple(int(150 + v) for v in hair[:1] * 3) if older else hair
        cv2.ellipse(img, (int(cx), int(cy - 10)), (rx + 6, ry + 4), 0, 180,
                    360, grey, -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx), int(cy)), (rx, ry), 0, 0, 360, skin, -1,
                cv2.LINE_AA)
    if older:
        _draw_age_lines(img, cx, cy, rx, skin)
    # Nose: the same for every class.
    nose = tuple(int(v * 0.75) for v in skin)
    _polyline(img, [(cx, cy - 8), (cx - 6, cy + 14), (cx + 4, cy + 16)], nose,
              3)

    def intensity():
        return rng.uniform(0.7, 1.3)

    _draw_brows(img, rng, cx, cy, brows, hair, intensity())
    _draw_eyes(img, rng, cx, cy, eyes, intensity())
    _draw_mouth(img, rng, cx, cy, mouth, intensity())

    # Pose: rotation, scale and translation.
    matrix = cv2.getRotationMatrix2D((cx, cy), rng.uniform(-15, 15),
                                     rng.uniform(0.85, 1.1))
    matrix[:, 2] += rng.uniform(-10, 10, 2)
    if attributes is not None:
        # eye centres, nose tip, mouth corners (as drawn), then posed
        points = np.array([[cx - 24, cy - 18], [cx + 24, cy - 18],
                           [cx - 4, cy + 15], [cx - 17, cy + 38],
                           [cx + 17, cy + 38]])
        posed = points @ matrix[:, :2].T + matrix[:, 2]
        attributes.update(
            skin_tone=SKIN_TONE_GROUP[tone],
            apparent_age=int(older),
            landmarks=posed * size / CANVAS)
    img = cv2.warpAffine(
        img,
        matrix, (CANVAS, CANVAS),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE)

    # Occlusion: a hand, a scarf, sunglasses... a blob of another colour.
    if rng.random() < 0.3:
        w, h = rng.uniform(20, 50), rng.uniform(12, 35)
        ox, oy = rng.uniform(cx - 60, cx + 60), rng.uniform(cy - 60, cy + 70)
        color = tuple(int(v) for v in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            cv2.rectangle(img, (int(ox - w / 2), int(oy - h / 2)),
                          (int(ox + w / 2), int(oy + h / 2)), color, -1)
        else:
            cv2.ellipse(img, (int(ox), int(oy)), (int(w / 2), int(h / 2)),
                        rng.uniform(0, 180), 0, 360, color, -1, cv2.LINE_AA)

    # Lighting: a directional gain, global contrast, then blur and noise.
    theta = rng.uniform(0, 2 * np.pi)
    light = np.cos(theta) * ramp[None, :] + np.sin(theta) * ramp[:, None]
    gain = 1 + rng.uniform(0, 0.35) * light
    out = img.astype(np.float32) * gain[..., None] * rng.uniform(0.8, 1.2)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
    out = cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA)
    out += rng.normal(0, rng.uniform(2, 10), out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)
