"""One serialisation of FER results, for ``predictions.jsonl``, the web demo
and any caller that wants JSON.

A record per image or video frame::

    {"input": "photos/a.jpg",        # path (or "camera:0"), or the index
     "frame": null,                  # frame index for videos, else null
     "time_s": null,                 # frame time in seconds for videos
     "img_shape": [480, 640],        # H, W
     "faces": [{"box": [x1, y1, x2, y2],       # detected face, pixels
                "det_score": 0.998,            # the detector's confidence
                "landmarks": [[x, y], ...],    # 5 points (eye, eye, nose,
                                               # mouth corners) or null
                "crop_box": [x1, y1, x2, y2],  # the part DAN saw
                "pred_label": 3,
                "pred_class": "Happiness",
                "pred_score": 0.91,
                "pred_scores": {"Surprise": 0.01, ..., "Neutral": 0.02},
                "track_id": 4}],               # videos with tracking only
     "error": "..."}                 # only for an unreadable file (folders)
"""
import json
from typing import Optional, Sequence

import numpy as np


def _round_list(values, ndigits: int) -> list:
    return [round(float(v), ndigits) for v in values]


def face_record(face: dict, classes: Optional[Sequence[str]] = None) -> dict:
    """One face result of :class:`~dan_mm.inference.FERInferencer` as plain
    JSON.

    Args:
        face (dict): A face of a result (``box``, ``pred_scores``, ...).
        classes (Sequence[str], optional): Class names: ``pred_scores``
            becomes ``{name: p}``; a list of probabilities without them.

    Returns:
        dict: See the module docstring.
    """
    scores = _round_list(face['pred_scores'], 6)
    landmarks = face.get('landmarks')
    record = dict(
        box=_round_list(face['box'], 1),
        det_score=round(float(face.get('det_score', 1.0)), 4),
        landmarks=None if landmarks is None else
        [_round_list(point, 1) for point in np.asarray(landmarks)],
        crop_box=[int(v) for v in face['crop_box']],
        pred_label=int(face['pred_label']),
        pred_class=face.get('pred_class'),
        pred_score=round(float(face['pred_score']), 6),
        pred_scores=dict(zip(classes, scores)) if classes else scores)
    if face.get('track_id') is not None:
        record['track_id'] = int(face['track_id'])
    return record


def prediction_record(result: dict,
                      classes: Optional[Sequence[str]] = None) -> dict:
    """One image's (or frame's) result as plain JSON (the module docstring).

    Args:
        result (dict): A result of :class:`~dan_mm.inference.FERInferencer`.
        classes (Sequence[str], optional): Class names.
    """
    time_s = result.get('time_s')
    record = dict(
        input=str(result['input']),
        frame=result.get('frame'),
        time_s=None if time_s is None else round(time_s, 3),
        img_shape=list(result['img_shape']) if 'img_shape' in result else None,
        faces=[face_record(face, classes) for face in result['faces']])
    if 'error' in result:
        record['error'] = result['error']
    return record


def to_json_line(result: dict, classes: Optional[Sequence[str]] = None) -> str:
    """One ``predictions.jsonl`` line (no newline)."""
    return json.dumps(prediction_record(result, classes))


def set_prediction(face: dict,
                   scores: np.ndarray,
                   classes: Optional[Sequence[str]] = None) -> dict:
    """Give ``face`` the class probabilities ``scores`` and what follows
    from them: ``pred_scores``, ``pred_label`` (the argmax), ``pred_score``
    and, with class names, ``pred_class``.

    Args:
        face (dict): A face result; updated in place.
        scores (np.ndarray): ``(num_classes, )`` probabilities.
        classes (Sequence[str], optional): Class names.

    Returns:
        dict: ``face``.
    """
    label = int(np.argmax(scores))
    face.update(
        pred_scores=scores, pred_label=label, pred_score=float(scores[label]))
    if classes is not None:
        face['pred_class'] = classes[label]
    return face
