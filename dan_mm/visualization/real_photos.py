"""A picture of what happens to real photos: boxes, five landmarks, the
aligned crops the model sees, and its labels (the README's "Real photos").

The only real face photo the installed packages ship is matplotlib's
``grace_hopper.jpg`` (US Navy, public domain): :func:`group_photo` makes a
group of it, turned, mirrored, scaled and in black and white, so that the
picture shows alignment undoing pose.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from matplotlib import cbook

from .fer_drawing import (_put_label_at, _text_rect_size, draw_faces,
                          drawing_style, face_pixels)
from .palette import OUTLINE

# (angle in degrees, face zoom, mirrored, black and white) per face.
GROUP_POSES = ((0, 1.0, False, False), (20, 0.8, True, False),
               (-15, 0.7, False, True), (8, 0.55, True, False), (-25, 0.9,
                                                                 False, False))
FACE_CENTER = (0.52, 0.36)  # of the portrait's width and height


def sample_photo() -> np.ndarray:
    """matplotlib's Grace Hopper portrait, BGR ``(600, 512, 3)``."""
    return cv2.imread(
        cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))


def group_photo(
    poses: Sequence[tuple] = GROUP_POSES,
    tile_size: Tuple[int, int] = (170, 230)
) -> np.ndarray:
    """The sample portrait once per pose, side by side (BGR).

    Args:
        poses (Sequence[tuple]): ``(angle, zoom, mirrored, gray)`` each; a
            zoom of 1 makes the face about 80 px wide.
        tile_size (tuple[int, int]): ``(width, height)`` of each person.
    """
    photo = sample_photo()
    h, w = photo.shape[:2]
    tile_w, tile_h = tile_size
    tiles = []
    for angle, zoom, mirrored, gray in poses:
        img = np.ascontiguousarray(photo[:, ::-1]) if mirrored else photo
        if gray:
            img = cv2.cvtColor(
                cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        cx = w * (1 - FACE_CENTER[0] if mirrored else FACE_CENTER[0])
        cy = h * FACE_CENTER[1]
        # turn about the face, scale, and put the face at the tile's
        # upper middle
        matrix = cv2.getRotationMatrix2D((cx, cy), angle, zoom * 0.45)
        matrix[:, 2] += [tile_w / 2 - cx, tile_h * 0.38 - cy]
        tiles.append(
            cv2.warpAffine(
                img,
                matrix, (tile_w, tile_h),
                flags=cv2.INTER_AREA,
                borderMode=cv2.BORDER_REFLECT))
    return np.concatenate(tiles, axis=1)


def real_photos_figure(inferencer,
                       img: Optional[np.ndarray] = None,
                       crop_size: int = 100) -> np.ndarray:
    """Detect, align and classify the faces of ``img``; draw it all.

    Top: the photo drawn by :func:`~.fer_drawing.draw_faces` (each face's
    box, five landmarks, number and label in its own colour). Below: each
    face as the model saw it (its crop, e.g. aligned onto the template),
    framed in its colour, with its label.

    Args:
        inferencer (FERInferencer): Detector, cropper and model.
        img (np.ndarray, optional): BGR photo. Defaults to
            :func:`group_photo`.
        crop_size (int): Side of each crop in the bottom row.
            Defaults to 100.

    Returns:
        np.ndarray: BGR picture.
    """
    img = group_photo() if img is None else img
    faces = inferencer(img)[0]['faces']
    # thin boxes, small labels: the faces are small
    top, layout = draw_faces(
        img, faces, thickness=1, scale=0.4, return_layout=True)
    crops: List[np.ndarray] = []
    for face, drawing in zip(faces, layout):
        crop = cv2.resize(
            face_pixels(img, face), (crop_size, crop_size),
            interpolation=cv2.INTER_AREA)
        style = drawing_style(img.shape[:2], 1, 0.4)
        while _text_rect_size(drawing.text, style)[0] > crop_size \
                and style.scale > 0.25:  # the whole label on the crop
            style = style._replace(scale=style.scale - 0.025)
        w, h = _text_rect_size(drawing.text, style)
        _put_label_at(crop, drawing.text, (0, crop_size - h, w, h),
                      style.scale, drawing.colour, True)
        # framed in the face's colour: which crop is which face
        crop = cv2.copyMakeBorder(
            crop, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=OUTLINE)
        crops.append(
            cv2.copyMakeBorder(
                crop, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=drawing.colour))
    width = top.shape[1]
    row = np.concatenate(
        crops, axis=1) if crops else np.zeros((crop_size + 8, 0, 3), np.uint8)
    row = row[:, :width]
    left = (width - row.shape[1]) // 2
    row = cv2.copyMakeBorder(row, 0, 0, left, width - row.shape[1] - left,
                             cv2.BORDER_CONSTANT)
    return np.concatenate([top, row], axis=0)
