"""SynthFER: procedurally drawn expression faces, written in RAF-DB's layout.

The built-in default data of dan_mm, so that the main job runs with no
download. It is a miniature of the real problem, not a toy:

- every class is a combination of cues in three face regions (brows, eyes,
  mouth), and no single region tells the classes apart: each mouth, eye or
  brow shape is shared by two or three classes, so a model must look at
  several regions at once, which is what DAN's multiple heads are for;
- some pairs differ in one region only, as surprise and fear do in real
  faces (Surprise/Fear and Anger/Disgust: the mouth; Sadness/Fear: the
  eyes), and every expression differs from Neutral in two regions or more;
- faces vary in position, scale, rotation, skin and background colour,
  lighting, cue intensity and noise, and some are partly occluded.

Classes follow RAF-DB's order and its file labels 1..7, so the same
:class:`~dan_mm.datasets.RAFDB` loader reads the result.
:func:`export_synthfer` rewrites a split in FERPlus's or AffectNet's layout,
for trying cross-dataset evaluation.
"""
import csv
import glob
import os
import os.path as osp
import re
from typing import Dict, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from dan_mm.utils.errors import ConfigError, OutputExistsError
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


def draw_face(label: int,
              rng: np.random.Generator,
              size: int = 100) -> np.ndarray:
    """Draw one face showing expression ``label`` (0-based, RAF-DB order).

    Args:
        label (int): Class index in ``RAFDB_CATEGORIES``.
        rng (np.random.Generator): Source of all randomness.
        size (int): Output side length. Defaults to 100 (RAF-DB aligned).

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
    skin = SKIN_TONES[rng.integers(len(SKIN_TONES))] + rng.uniform(-15, 15, 3)
    skin = tuple(int(v) for v in np.clip(skin, 0, 255))
    hair = tuple(int(v) for v in rng.uniform(0, 90, 3))
    rx, ry = int(rng.uniform(58, 68)), int(rng.uniform(74, 84))
    if rng.random() < 0.7:  # hair
        cv2.ellipse(img, (int(cx), int(cy - 10)), (rx + 6, ry + 4), 0, 180,
                    360, hair, -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx), int(cy)), (rx, ry), 0, 0, 360, skin, -1,
                cv2.LINE_AA)
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


def generate_synthfer(root: str,
                      num_train: int = 2800,
                      num_test: int = 700,
                      seed: int = 0,
                      size: int = 100,
                      progress: bool = True,
                      overwrite: bool = False) -> str:
    """Write a SynthFER data set in RAF-DB's on-disk layout.

    Classes are balanced (sample ``i`` has class ``i % 7``); the same seed
    gives byte-identical images. A folder that is not empty is refused, as
    its files may be another run's (or not SynthFER's at all); with
    ``overwrite`` an earlier SynthFER set there is deleted first, so that no
    image of it stays behind.

    Args:
        root (str): Output folder (created).
        num_train (int): Training images. Defaults to 2800.
        num_test (int): Test images. Defaults to 700.
        seed (int): Random seed. Defaults to 0.
        size (int): Image side length. Defaults to 100, as RAF-DB aligned.
        progress (bool): Show a progress bar. Defaults to True.
        overwrite (bool): Replace an earlier SynthFER set in ``root``.
            Defaults to False.

    Returns:
        str: The label file written.

    Raises:
        OutputExistsError: ``root`` is not empty (without ``overwrite``), or
            holds files SynthFER does not write (with it).
    """
    _clear_synthfer(root, overwrite)
    img_dir = osp.join(root, 'Image', 'aligned')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.join(root, 'EmoLabel'), exist_ok=True)
    ann_file = osp.join(root, 'EmoLabel', 'list_patition_label.txt')
    rng = np.random.default_rng(seed)
    num_classes = len(RAFDB_CATEGORIES)
    jobs = [('train', i, f'{i + 1:05d}') for i in range(num_train)] + \
        [('test', i, f'{i + 1:04d}') for i in range(num_test)]
    lines = []
    for split, i, number in tqdm(
            jobs, desc=f'SynthFER -> {root}', disable=not progress):
        label = i % num_classes
        img = draw_face(label, rng, size)
        name = f'{split}_{number}'
        cv2.imwrite(
            osp.join(img_dir, f'{name}_aligned.jpg'),
            cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 95])
        lines.append(f'{name}.jpg {label + 1}\n')
    with open(ann_file, 'w', encoding='utf-8') as f:
        f.writelines(lines)
    return ann_file


# What generate_synthfer writes under its root: only these may be deleted.
SYNTHFER_FILES = re.compile(
    r'Image|Image/aligned|EmoLabel|EmoLabel/list_patition_label\.txt|'
    r'Image/aligned/(train|test)_\d+_aligned\.jpg')


def _clear_synthfer(root: str, overwrite: bool) -> None:
    """Refuse a non-empty ``root``, or empty an earlier SynthFER set there.

    Args:
        root (str): The generator's output folder.
        overwrite (bool): Delete an earlier SynthFER set instead of refusing.
    """
    if not osp.isdir(root) or not os.listdir(root):
        return
    found = sorted(
        osp.relpath(p, root).replace(os.sep, '/')
        for p in glob.glob(osp.join(root, '**'), recursive=True)
        if p.rstrip(os.sep) != root.rstrip(os.sep))
    if not overwrite:
        raise OutputExistsError(
            f'{root} is not empty (it holds {found[0]}): write SynthFER to '
            'another folder, or pass --overwrite to replace the SynthFER set '
            'there')
    foreign = [p for p in found if not SYNTHFER_FILES.fullmatch(p)]
    if foreign:
        raise OutputExistsError(
            f'{osp.join(root, foreign[0])} is not a file SynthFER writes: '
            'refusing to --overwrite that folder; write SynthFER to another '
            'folder')
    for path in reversed(found):  # files before their folders
        full = osp.join(root, path)
        if osp.isdir(full):
            os.rmdir(full)
        else:
            os.remove(full)


def export_synthfer(root: str,
                    out: str,
                    layout: str,
                    split: str = 'test',
                    contempt: int = 0,
                    seed: int = 0,
                    overwrite: bool = False) -> str:
    """Write a SynthFER split in another data set's layout, for trying
    cross-dataset evaluation without a licensed data set.

    Labels follow the target's classes, matched by name (SynthFER has
    RAF-DB's). ``contempt`` extra images are labelled Contempt, a class
    RAF-DB lacks (drawn as Neutral faces), so that the evaluation has a
    class to leave out.

    - ``'ferplus'``: ``fer2013.csv`` (48x48 gray pixels; ``emotion`` in
      FER2013's order, Contempt rows as Neutral) and ``fer2013new.csv`` with
      all ten votes on the face's class; Usage ``PrivateTest`` for the test
      split, ``Training`` for train.
    - ``'affectnet'``: AffectNet's release layout with whole photos: each
      face pasted at a random place into a larger picture under
      ``Manually_Annotated_Images/``, and ``validation.csv`` (test split) or
      ``training.csv`` with AffectNet's columns, the face box included.

    Both splits can go to one folder, as both layouts hold both: the FERPlus
    rows of a split are added to the CSVs already there, and the AffectNet
    pictures of each split have their own names (``1/train_0.png``,
    ``1/test_0.png``). A split already in ``out`` is refused, as it may be
    another run's; with ``overwrite`` its rows and pictures are deleted first
    and the other split's stay.

    Args:
        root (str): A SynthFER (RAF-DB layout) folder.
        out (str): The output folder (created).
        layout (str): ``'ferplus'`` or ``'affectnet'``.
        split (str): The SynthFER split to export. Defaults to ``'test'``.
        contempt (int): Extra Contempt images. Defaults to 0.
        seed (int): Seed of the Contempt faces and the photo layouts.
        overwrite (bool): Replace this split if ``out`` has it. Defaults to
            False.

    Returns:
        str: The label file written (``fer2013new.csv`` or the CSV).

    Raises:
        OutputExistsError: ``out`` has this split already (without
            ``overwrite``).
    """
    from ..datasets.categories import (AFFECTNET_CATEGORIES,
                                       FERPLUS_CATEGORIES,
                                       canonical_expression)
    from ..datasets.rafdb import RAFDB
    if layout not in ('ferplus', 'affectnet'):
        raise ConfigError(
            f'layout must be "ferplus" or "affectnet", got "{layout}"')
    source = RAFDB(root, split=split, pipeline=[])
    infos = [source.get_data_info(i) for i in range(len(source))]
    faces = [(cv2.imread(info['img_path']), RAFDB_CATEGORIES[info['gt_label']])
             for info in infos]
    rng = np.random.default_rng(seed)
    neutral = RAFDB_CATEGORIES.index('Neutral')
    faces += [(cv2.cvtColor(draw_face(neutral, rng),
                            cv2.COLOR_RGB2BGR), 'Contempt')
              for _ in range(contempt)]
    target = FERPLUS_CATEGORIES if layout == 'ferplus' else \
        AFFECTNET_CATEGORIES
    label_of = {canonical_expression(c): i for i, c in enumerate(target)}
    labels = [label_of[canonical_expression(name)] for _, name in faces]
    os.makedirs(out, exist_ok=True)
    if layout == 'ferplus':
        return _export_ferplus(out, split, faces, labels, overwrite)
    return _export_affectnet(out, split, faces, labels, rng, overwrite)


FERPLUS_VOTES = [
    'neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear',
    'contempt', 'unknown', 'NF'
]
FERPLUS_PIXELS_HEADER = ['emotion', 'pixels', 'Usage']
FERPLUS_HEADERS = (FERPLUS_PIXELS_HEADER,
                   ['Usage', 'Image name'] + FERPLUS_VOTES)


def _export_ferplus(out, split, faces, labels, overwrite):
    """Add a split's rows to ``fer2013.csv`` and ``fer2013new.csv``, which
    pair their rows by order (see :class:`~dan_mm.datasets.FERPlus`)."""
    from ..datasets.categories import FER2013_CATEGORIES, FERPLUS_VOTE_COLUMNS
    usage = 'Training' if split == 'train' else 'PrivateTest'
    paths = [osp.join(out, n) for n in ('fer2013.csv', 'fer2013new.csv')]
    pixel_rows, vote_rows = (_read_csv(p, h)
                             for p, h in zip(paths, FERPLUS_HEADERS))
    if len(pixel_rows) != len(vote_rows):
        raise OutputExistsError(
            f'{paths[0]} has {len(pixel_rows)} rows and {paths[1]} '
            f'{len(vote_rows)}: not one export; export to another folder')
    if any(row[0] == usage for row in vote_rows):
        if not overwrite:
            raise OutputExistsError(
                f'{paths[1]} has rows with Usage {usage} already (the '
                f'SynthFER {split} split of an earlier export): export to '
                'another folder, or pass --overwrite to replace them')
        keep = [i for i, row in enumerate(vote_rows) if row[0] != usage]
        pixel_rows = [pixel_rows[i] for i in keep]
        vote_rows = [vote_rows[i] for i in keep]
    # image names stay unique across the splits of one folder
    numbers = [re.fullmatch(r'fer(\d+)\.png', row[1]) for row in vote_rows]
    start = 1 + max((int(m[1]) for m in numbers if m), default=-1)
    for i, ((img, _), label) in enumerate(zip(faces, labels)):
        gray = cv2.resize(
            cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), (48, 48),
            interpolation=cv2.INTER_AREA)
        emotion = min(label, FER2013_CATEGORIES.index('Neutral'))
        pixel_rows.append(
            [emotion, ' '.join(map(str, gray.reshape(-1))), usage])
        vote_rows.append([usage, f'fer{start + i:07d}.png'] + [
            10 if c == FERPLUS_VOTE_COLUMNS[label] else 0
            for c in FERPLUS_VOTES
        ])
    _write_csv(paths[0], FERPLUS_HEADERS[0], pixel_rows)
    return _write_csv(paths[1], FERPLUS_HEADERS[1], vote_rows)


def _export_affectnet(out, split, faces, labels, rng, overwrite):
    """Write a split's photos (named by split) and its CSV."""
    img_dir = osp.join(out, 'Manually_Annotated_Images', '1')
    csv_file = osp.join(
        out, 'training.csv' if split == 'train' else 'validation.csv')
    earlier = [csv_file] if osp.exists(csv_file) else []
    earlier += sorted(glob.glob(osp.join(img_dir, f'{split}_*.png')))
    if earlier and not overwrite:
        raise OutputExistsError(
            f'{earlier[0]} exists (the SynthFER {split} split of an earlier '
            'export): export to another folder, or pass --overwrite to '
            'replace that split')
    for path in earlier:
        os.remove(path)
    os.makedirs(img_dir, exist_ok=True)
    rows = []
    for i, ((img, _), label) in enumerate(zip(faces, labels)):
        h, w = img.shape[:2]
        photo_h = int(h * rng.uniform(1.3, 2))
        photo_w = int(w * rng.uniform(1.3, 2))
        photo = np.empty((photo_h, photo_w, 3), np.uint8)
        photo[:] = rng.integers(0, 256, 3)
        x = int(rng.integers(0, photo_w - w))
        y = int(rng.integers(0, photo_h - h))
        photo[y:y + h, x:x + w] = img
        name = f'{split}_{i}.png'
        cv2.imwrite(osp.join(img_dir, name), photo)
        rows.append([f'1/{name}', x, y, w, h, '', label, 0, 0])
    return _write_csv(csv_file, [
        'subDirectory_filePath', 'face_x', 'face_y', 'face_width',
        'face_height', 'facial_landmarks', 'expression', 'valence', 'arousal'
    ], rows)


def _read_csv(path: str, header: list) -> list:
    """The rows of an earlier export's CSV (none if there is no file)."""
    if not osp.exists(path):
        return []
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != header:
        raise OutputExistsError(
            f'{path} exists and is not a SynthFER export (its header is not '
            f'{",".join(header)}): export to another folder')
    return rows[1:]


def _write_csv(path: str, header: list, rows: list) -> str:
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path
