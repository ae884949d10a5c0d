"""Aligned crops: the five-point similarity transform, a rotated real photo
aligning like the upright one, re-detected landmarks on the template, the
template fitter, the face_crop config key and the inferencer's crops."""
import cv2
import numpy as np
import pytest
from fer_test_utils import CONFIG, build_model, face_photo, save_checkpoint
from matplotlib import cbook
from mmengine.config import Config

from dan_mm.analysis import fit_face_template
from dan_mm.analysis.face_template import detect_landmarks
from dan_mm.inference import (FaceCropper, FaceDetections, FERInferencer,
                              RetinaFaceDetector)
from dan_mm.inference.face_alignment import (RAFDB_TEMPLATE, estimate_norm,
                                             norm_crop)
from dan_mm.utils.errors import ConfigError
from dan_mm.visualization import draw_attention_panels
from dan_mm.visualization.fer_drawing import face_pixels

TEMPLATE = np.array(RAFDB_TEMPLATE, np.float32)
SIZE = 100


@pytest.fixture(scope='module')
def detector():
    return RetinaFaceDetector(num_threads=1)


@pytest.fixture(scope='module')
def photo():
    return cv2.imread(
        cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))


def rotation(img, angle):
    """``img`` turned by ``angle`` degrees on a canvas that holds all of it,
    and the ``(3, 3)`` matrix from the original to the turned image."""
    h, w = img.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(h * sin + w * cos), int(h * cos + w * sin))
    matrix[:, 2] += [(size[0] - w) / 2, (size[1] - h) / 2]
    turned = cv2.warpAffine(img, matrix, size, borderMode=cv2.BORDER_REFLECT)
    return turned, np.vstack([matrix, [0, 0, 1]])


def aligned_crop(img, detector):
    found = detector(img)
    assert len(found.boxes) == 1
    return FaceCropper(
        'aligned', template=TEMPLATE, size=SIZE)(img, found.boxes[0],
                                                 found.landmarks[0])


def blurred(img):  # compare shapes, not pixel-sized texture
    return cv2.GaussianBlur(img.astype(np.float32), (0, 0), 2).ravel()


def test_estimate_norm_recovers_a_similarity_transform():
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 200, (5, 2))
    angle, scale, shift = np.deg2rad(25), 0.6, np.array([12., -7.])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)],
                            [np.sin(angle), np.cos(angle)]])
    matrix = estimate_norm(points, points @ rot.T + shift)
    np.testing.assert_allclose(matrix[:, :2], rot, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)
    # no reflection, even for mirrored points
    mirrored = estimate_norm(points, points * [-1, 1])
    assert np.linalg.det(mirrored[:, :2]) > 0


@pytest.mark.parametrize('angle', [-20, 20])
def test_a_rotated_photo_aligns_like_the_upright_one(detector, photo, angle):
    upright = aligned_crop(photo, detector)
    turned, to_turned = rotation(photo, angle)
    crop = aligned_crop(turned, detector)
    # Geometry: the crop square of the turned photo, taken back to the
    # upright photo, lands within a few pixels of the upright crop's.
    back = crop.matrix @ to_turned  # upright photo -> crop of the turned one
    corners = cv2.transform(
        np.array([[[0, 0]], [[SIZE, 0]], [[0, SIZE]], [[SIZE, SIZE]]],
                 np.float64), cv2.invertAffineTransform(upright.matrix))
    shift = np.linalg.norm(
        cv2.transform(corners, back) - cv2.transform(corners, upright.matrix),
        axis=-1)
    assert shift.max() < 0.08 * SIZE, shift.ravel()
    # Pixels: nearly the same crop, and far closer than a box crop is.
    corr = np.corrcoef(blurred(crop.img), blurred(upright.img))[0, 1]
    assert corr > 0.9

    def box_crop(img):
        found = detector(img)
        box = FaceCropper('box', margin=0.1)(img, found.boxes[0], None)
        return cv2.resize(box.img, (SIZE, SIZE))

    box_corr = np.corrcoef(
        blurred(box_crop(turned)), blurred(box_crop(photo)))[0, 1]
    assert corr > box_corr + 0.1, (corr, box_corr)


def test_landmarks_of_an_aligned_crop_are_on_the_template(detector, photo):
    crop = aligned_crop(photo, detector)
    points = detect_landmarks(crop.img, RetinaFaceDetector(score_thr=0.5))
    error = np.linalg.norm(points - TEMPLATE, axis=1)
    # RetinaFace-MobileNet0.25's landmarks move by 2-4 px at this size
    assert error.max() < 5 and error.mean() < 3.5, error


def test_fitter_recovers_a_known_template(detector, photo):
    known = TEMPLATE * 0.7 + [15, 20]  # a looser, lower crop
    crops = []
    for angle in (-10, 0, 10):
        for scale in (0.8, 1.3):
            img, _ = rotation(
                cv2.resize(photo, None, fx=scale, fy=scale), angle)
            found = detector(img)
            crops.append(norm_crop(img, found.landmarks[0], known, SIZE)[0])
    crops.append(np.full((SIZE, SIZE, 3), 128, np.uint8))  # no face
    fit = fit_face_template(crops)
    assert fit.size == SIZE and fit.num_no_face == 1
    assert fit.num_used + fit.num_outliers == 6
    error = np.linalg.norm(fit.template - known, axis=1)
    assert error.max() < 5, error
    assert error.mean() < np.linalg.norm(TEMPLATE - known, axis=1).mean() / 2
    assert fit.config_line().startswith(
        "face_crop = dict(mode='aligned', size=100, template=[[")
    assert eval(fit.config_line().split('template=')[1][:-1]) == [
        [round(float(v), 2) for v in point] for point in fit.template
    ]


def test_fitter_rejects_outliers_and_counts_failures():
    """With a stub detector: faces far from the median are rejected, the
    rest averaged; images without a face are counted."""
    rng = np.random.default_rng(0)
    known = TEMPLATE
    answers = [known + rng.normal(0, 0.5, (5, 2)) for _ in range(20)]
    answers += [known + [30, 0], known * 0.5, None, None]

    class Stub:

        def __init__(self):
            self.answers = iter(answers)

        def __call__(self, img):
            points = next(self.answers)
            if points is None:
                return FaceDetections(np.zeros((0, 4)), np.zeros(0), None)
            pad = SIZE // 2
            return FaceDetections(
                np.array([[pad, pad, pad + SIZE, pad + SIZE]], np.float32),
                np.ones(1), (points + pad)[None])

    images = [np.zeros((SIZE, SIZE, 3), np.uint8)] * len(answers)
    fit = fit_face_template(images, detector=Stub())
    assert (fit.num_used, fit.num_outliers, fit.num_no_face) == (20, 2, 2)
    np.testing.assert_allclose(fit.template, known, atol=0.3)
    answers = [None]
    with pytest.raises(ConfigError, match='no face found in any of the 1'):
        fit_face_template(images[:1], detector=Stub())


def test_face_crop_key_and_overrides():
    rafdb = Config.fromfile('configs/dan_r18_rafdb.py')
    cropper = FaceCropper.from_config(rafdb)
    assert cropper.mode == 'aligned' and cropper.size == 100
    np.testing.assert_allclose(cropper.template, TEMPLATE)
    assert FaceCropper.from_config(rafdb, crop='box').mode == 'box'
    synth = Config.fromfile(CONFIG)
    assert synth.face_crop == dict(mode='box', margin=0.1)
    assert FaceCropper.from_config(synth, margin=0.3).margin == 0.3
    aligned = FaceCropper.from_config(synth, crop='aligned')
    assert aligned.size == 100  # the RAF-DB approximation
    assert FaceCropper.from_config({}).margin == 0.2  # no key: box
    for spec, message in [
        (dict(mode='warp'), 'mode "warp" is unknown'),
        (dict(mode='aligned', size=100), 'needs template'),
        (dict(mode='aligned', template=RAFDB_TEMPLATE), 'needs size'),
        (dict(mode='box', pad=3), r"unknown keys \['pad'\]"),
    ]:
        with pytest.raises(ConfigError, match='face_crop.*' + message):
            FaceCropper.from_config(dict(face_crop=spec))


def test_inferencer_aligned_crops_and_fallbacks(tmp_path, detector):
    checkpoint = save_checkpoint(build_model(), tmp_path / 'dan.pth')
    img = face_photo(256)
    inferencer = FERInferencer(
        CONFIG, checkpoint, crop='aligned', detector=detector)
    (result, ) = inferencer(img, return_maps=True)
    (face, ) = result['faces']
    assert face['crop_size'] == 100 and len(face['crop_matrix']) == 2
    pixels = face_pixels(img, face)
    assert pixels.shape == (100, 100, 3)
    # the crop puts the detected landmarks on the template (as near as a
    # similarity transform of five points can)
    np.testing.assert_allclose(
        face['crop_matrix'],
        estimate_norm(face['landmarks'], TEMPLATE),
        atol=0.05)
    points = cv2.transform(
        np.array(face['landmarks'], np.float64)[:, None],
        np.array(face['crop_matrix']))[:, 0]
    assert np.abs(points - TEMPLATE).max() < 3
    panels = draw_attention_panels(img, [face], 64)
    assert panels.shape == (64, 5 * 64, 3)
    # Haar has no landmarks: aligned falls back to the box with the margin
    haar = FERInferencer(CONFIG, checkpoint, crop='aligned', detector='haar')
    (face, ) = haar(img)[0]['faces']
    assert face['landmarks'] is None and 'crop_matrix' not in face


@pytest.mark.slow
def test_real_photos_figure(tmp_path, detector):
    """The README's picture: every face of the group found, with landmarks,
    and one aligned crop per face below the photo."""
    from dan_mm.visualization.real_photos import (group_photo,
                                                  real_photos_figure)
    group = group_photo()
    found = detector(group)
    assert len(found.boxes) == 5 and found.landmarks.shape == (5, 5, 2)
    checkpoint = save_checkpoint(build_model(), tmp_path / 'dan.pth')
    inferencer = FERInferencer(
        CONFIG, checkpoint, crop='aligned', detector=detector)
    figure = real_photos_figure(inferencer, group, crop_size=100)
    assert figure.shape == (group.shape[0] + 108, group.shape[1], 3)
