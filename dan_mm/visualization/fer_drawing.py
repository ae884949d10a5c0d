"""Drawing FER results: each face's box, landmarks and label in its own
colour, per-head attention panels and the confusion matrix."""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from dan_mm.utils.errors import InputError
from .palette import (BGR, OUTLINE, face_colour_bgr, face_number,
                      text_colour_bgr)

PANEL_LABEL_COLOR = (48, 48, 48)  # BGR: titles of attention panels
TEXT_COLOR = (255, 255, 255)

FONT = cv2.FONT_HERSHEY_SIMPLEX
Rect = Tuple[int, int, int, int]  # x, y (top left), width, height
Point = Tuple[int, int]


class FaceDrawing(NamedTuple):
    """Where and how one face is drawn (:func:`layout_faces`).

    Attributes:
        number (int): The face's number (track id in a video, else its
            place from 1), written on its box and on its label.
        colour (tuple[int, int, int]): BGR colour of its box, landmarks,
            label and leader line (:func:`~.palette.face_colour_bgr`).
        box (tuple[int, int, int, int]): ``x1, y1, x2, y2`` in pixels.
        text (str): The label, e.g. ``"#2 Happiness 0.91"``.
        label (Rect): The label's ``x, y, w, h``.
        tag (Rect): The number's ``x, y, w, h``: just below the box's
            bottom left corner, else at the first place of
            :func:`place_tag` that is in the image and off the landmarks.
        leader (tuple[Point, Point] | None): For a label moved away from
            its box, the line from the label to the nearest point of the
            box's outline; None when the label touches its box.
    """
    number: int
    colour: BGR
    box: Tuple[int, int, int, int]
    text: str
    label: Rect
    tag: Rect
    leader: Optional[Tuple[Point, Point]]


class DrawingStyle(NamedTuple):
    """Line thickness, font scale and font weight (:func:`drawing_style`)."""
    thickness: int
    scale: float
    weight: int


def drawing_style(img_shape: Tuple[int, int],
                  thickness: Optional[int] = None,
                  scale: Optional[float] = None) -> DrawingStyle:
    """Lines and text that grow with the image: 1 px and font scale 0.4 up
    to 450 px, then about 1 px and 0.3 per 300 px of its longer side."""
    if thickness is None:
        thickness = max(1, round(max(img_shape[:2]) / 300))
    if scale is None:
        scale = max(0.4, thickness * 0.3)
    return DrawingStyle(int(thickness), float(scale), max(1, round(scale)))


def _text_rect_size(text: str, style: DrawingStyle) -> Tuple[int, int]:
    """``(w, h)`` of ``text`` on its filled box with a small padding."""
    (tw, th), base = cv2.getTextSize(text, FONT, style.scale, style.weight)
    pad = style.thickness + 1
    return tw + 2 * pad, th + base + pad


def _put_label(img: np.ndarray,
               text: str,
               x: int,
               y: int,
               scale: float = 0.5,
               colour: BGR = PANEL_LABEL_COLOR) -> None:
    """Write ``text`` on a filled box whose bottom-left corner is (x, y),
    moved left or down where it would leave the image."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    x = max(0, min(x, img.shape[1] - tw))
    y = max(y, th + base)
    _put_label_at(img, text, (x, y - th - base, tw, th + base), scale, colour)


def _put_label_at(img: np.ndarray,
                  text: str,
                  rect: Rect,
                  scale: float,
                  colour: BGR = PANEL_LABEL_COLOR,
                  outline: bool = False,
                  weight: int = 1) -> None:
    """Write ``text`` (black or white, whichever reads better) centred on a
    box of ``colour`` filling ``rect``, with a dark edge if ``outline``."""
    x, y, w, h = rect
    (tw, th), base = cv2.getTextSize(text, FONT, scale, weight)
    cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), colour, -1)
    if outline:
        cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), OUTLINE, 1)
    origin = (x + (w - tw) // 2, y + (h + th) // 2)
    cv2.putText(img, text, origin, FONT, scale, text_colour_bgr(colour),
                weight, cv2.LINE_AA)


def _overlaps(a: Rect, b: Rect) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3]
            and b[1] < a[1] + a[3])


def _box_rect(box: Sequence[float]) -> Rect:
    x1, y1, x2, y2 = (int(round(v)) for v in box[:4])
    return x1, y1, x2 - x1 + 1, y2 - y1 + 1


def layout_labels(boxes: Sequence[Sequence[float]],
                  sizes: Sequence[Tuple[int, int]],
                  img_shape: Tuple[int, int],
                  obstacles: Optional[Sequence[Rect]] = None) -> List[Rect]:
    """Place one label per box so that no two labels overlap.

    Labels are placed in order, each at the first place of: above its box,
    below it, inside its top edge, then one label height further up,
    further down, and so on, alternately; each at the box's left edge, then
    at its right one. Every place is first moved into the image. A place
    must be free of the labels placed before and of ``obstacles``; the
    first pass also keeps off the other faces' boxes and the leader lines
    (:func:`leader_line`) of moved labels, and a moved label's own line may
    not cross a label; a second pass drops these. Only when the image has no
    free place left (more labels than fit) does a label overlap, at its
    place above the box.

    Args:
        boxes (Sequence): Face boxes ``x1, y1, x2, y2``.
        sizes (Sequence[tuple[int, int]]): ``(width, height)`` of each label.
        img_shape (tuple[int, int]): ``(H, W)`` of the image.
        obstacles (Sequence[Rect], optional): ``x, y, w, h`` no label may
            cover (e.g. the numbers on the boxes).

    Returns:
        list[tuple[int, int, int, int]]: Per label ``x, y, w, h``, top left
        corner and size, in pixels.
    """
    height, width = img_shape[:2]
    faces = [_box_rect(box) for box in boxes]
    obstacles = list(obstacles or [])
    placed: List[Rect] = []
    lines: List[Rect] = []  # the leader lines of moved labels, as strips

    def fit(x: float, y: float, w: int, h: int) -> Rect:
        return (int(max(0, min(round(x), width - w))),
                int(max(0, min(round(y), height - h))), w, h)

    def free(rect: Rect, own: int, strict: bool) -> bool:
        taken = [*placed, *obstacles]
        line = leader_line(rect, boxes[own])
        if strict:  # off other faces, no leader line crossing a label
            taken += lines + [f for j, f in enumerate(faces) if j != own]
            if line is not None and any(
                    _overlaps(_line_rect(line), p) for p in placed):
                return False
        return not any(_overlaps(rect, other) for other in taken)

    for i, ((x1, y1, x2, y2), (w, h)) in enumerate(zip(boxes, sizes)):
        ys = [y1 - h, y2, y1]
        for k in range(1, height // max(h, 1) + 1):
            ys += [y1 - h - k * h, y2 + k * h]
        candidates = list(
            dict.fromkeys(
                fit(x, y, w, h) for y in ys for x in (x1, x2 + 1 - w)))
        rect = next((c for strict in (True, False)
                     for c in candidates if free(c, i, strict)), candidates[0])
        placed.append(rect)
        line = leader_line(rect, boxes[i])
        if line is not None:
            lines.append(_line_rect(line))
    return placed


def _line_rect(line: Tuple[Point, Point]) -> Rect:
    """The rectangle a leader line spans (one pixel wide at least)."""
    (xa, ya), (xb, yb) = line
    return min(xa, xb), min(ya, yb), abs(xa - xb) + 1, abs(ya - yb) + 1


def leader_line(label: Rect,
                box: Sequence[int],
                gap: int = 1) -> Optional[Tuple[Point, Point]]:
    """The line tying a label to its box, or None when they touch.

    Args:
        label (Rect): The label's ``x, y, w, h``.
        box (Sequence[int]): The box's ``x1, y1, x2, y2``.
        gap (int): Labels up to this many pixels away count as touching.
            Defaults to 1.

    Returns:
        tuple[Point, Point] | None: From the point of the label nearest to
        the box to the point of the box's outline nearest to the label's
        centre (on the outline: a label that touches the box has no line).
    """
    x1, y1, x2, y2 = box
    near = (x1 - gap, y1 - gap, x2 - x1 + 1 + 2 * gap, y2 - y1 + 1 + 2 * gap)
    if _overlaps(label, near):
        return None
    x, y, w, h = label
    cx, cy = x + w // 2, y + h // 2
    end = (min(max(cx, x1), x2), min(max(cy, y1), y2))
    start = (min(max(end[0], x), x + w - 1), min(max(end[1], y), y + h - 1))
    return start, end


def place_tag(
    box: Sequence[int],
    size: Tuple[int, int],
    img_shape: Tuple[int, int],
    avoid: Sequence[Rect] = (),
    keep_off: Sequence[Rect] = ()
) -> Rect:
    """Where a face's number goes: touching its box, off the face.

    The places, in order: below the box at its left corner, then at its
    right one; beside the bottom corners, left then right; inside the
    box's bottom corners, then its top ones (a face at the image's edge).
    The first that lies in the image and covers none of ``avoid`` (the
    landmark dots) nor ``keep_off`` (other faces' boxes) wins; then the
    first off ``avoid`` alone; else the first, moved into the image.

    Args:
        box (Sequence[int]): The face's ``x1, y1, x2, y2``.
        size (tuple[int, int]): ``(w, h)`` of the number's box.
        img_shape (tuple[int, int]): ``(H, W)`` of the image.
        avoid (Sequence[Rect]): What the number must not cover.
        keep_off (Sequence[Rect]): What it should not cover.

    Returns:
        tuple[int, int, int, int]: The number's ``x, y, w, h``.
    """
    x1, y1, x2, y2 = (int(v) for v in box[:4])
    w, h = size
    height, width = img_shape[:2]
    places = [(x1, y2 + 1), (x2 + 1 - w, y2 + 1), (x1 - w, y2 + 1 - h),
              (x2 + 1, y2 + 1 - h), (x1, y2 + 1 - h), (x2 + 1 - w, y2 + 1 - h),
              (x1, y1), (x2 + 1 - w, y1)]
    rects = [(x, y, w, h) for x, y in places
             if 0 <= x <= width - w and 0 <= y <= height - h]
    for taken in ([*avoid, *keep_off], avoid):
        for rect in rects:
            if not any(_overlaps(rect, other) for other in taken):
                return rect
    x, y = places[0]
    return (max(0, min(x, width - w)), max(0, min(y, height - h)), w, h)


def landmark_rects(face: dict, radius: int) -> List[Rect]:
    """The squares a face's landmark dots of ``radius`` cover."""
    points = face.get('landmarks')
    if points is None:
        return []
    return [(int(round(x)) - radius, int(round(y)) - radius, 2 * radius + 1,
             2 * radius + 1)
            for x, y in np.asarray(points, np.float64).reshape(-1, 2)]


def face_label(face: dict, number: Optional[int] = None) -> str:
    """A face's label: ``"#<number> <class> <score>"``; the number defaults
    to the face's ``track_id`` (none without one)."""
    name = face.get('pred_class')
    name = face['pred_label'] if name is None else name
    text = f'{name} {face["pred_score"]:.2f}'
    number = face.get('track_id') if number is None else number
    if number is not None:
        text = f'#{number} {text}'
    return text


def layout_faces(faces: Sequence[dict],
                 img_shape: Tuple[int, int],
                 ids: Optional[Sequence[int]] = None,
                 thickness: Optional[int] = None,
                 scale: Optional[float] = None) -> List[FaceDrawing]:
    """Number, colour, label text and places of every face (no drawing).

    Args:
        faces (Sequence[dict]): Face results with ``box``, ``pred_class``
            (or ``pred_label``), ``pred_score`` and, in a video,
            ``track_id``.
        img_shape (tuple[int, int]): ``(H, W)`` of the image.
        ids (Sequence[int], optional): Each face's number; defaults to
            :func:`~.palette.face_number` (track id, else place from 1).
        thickness (int, optional): Box line width (see
            :func:`drawing_style`).
        scale (float, optional): Font scale (see :func:`drawing_style`).

    Returns:
        list[FaceDrawing]: One per face, in order; labels placed by
        :func:`layout_labels`, with a :func:`leader_line` when moved.
    """
    style = drawing_style(img_shape, thickness, scale)
    numbers = [face_number(face, i) for i, face in enumerate(faces)] \
        if ids is None else [int(n) for n in ids]
    boxes = [tuple(int(round(v)) for v in face['box'][:4]) for face in faces]
    texts = [face_label(face, n) for face, n in zip(faces, numbers)]
    # the dots as draw_faces draws them, outline included
    dots = [
        rect for face in faces
        for rect in landmark_rects(face, style.thickness + 2)
    ]
    tags = []
    for i, (number, box) in enumerate(zip(numbers, boxes)):
        others = [_box_rect(b) for j, b in enumerate(boxes) if j != i]
        tags.append(
            place_tag(box, _text_rect_size(str(number), style), img_shape,
                      dots + tags, others))
    # labels keep off the numbers: a moved label's number stays readable
    rects = layout_labels(boxes,
                          [_text_rect_size(text, style) for text in texts],
                          img_shape, tags)
    drawings = []
    for number, box, text, rect, tag in zip(numbers, boxes, texts, rects,
                                            tags):
        drawings.append(
            FaceDrawing(number, face_colour_bgr(number), box, text, rect, tag,
                        leader_line(rect, box, style.thickness)))
    return drawings


def draw_faces(img: np.ndarray,
               faces: Sequence[dict],
               ids: Optional[Sequence[int]] = None,
               thickness: Optional[int] = None,
               scale: Optional[float] = None,
               landmarks: bool = True,
               return_layout: bool = False):
    """Draw every face in its own colour: box, five landmarks, the number
    on the box and a label (``#number class score``) placed so that labels
    do not overlap, tied to its box by a thin line when moved away from it
    (:func:`layout_faces`).

    Args:
        img (np.ndarray): BGR image ``(H, W, 3)``; not modified.
        faces (Sequence[dict]): Face results with ``box``, ``pred_class``
            (or ``pred_label``), ``pred_score``, optionally ``landmarks``
            ``(5, 2)`` and, in a video, ``track_id`` (its number and so its
            colour, the same in every frame).
        ids (Sequence[int], optional): Each face's number instead.
        thickness (int, optional): Box line width (default: grows with the
            image, :func:`drawing_style`).
        scale (float, optional): Font scale (default: grows with the image).
        landmarks (bool): Draw the landmarks. Defaults to True.
        return_layout (bool): Also return the :class:`FaceDrawing` of every
            face. Defaults to False.

    Returns:
        np.ndarray | tuple[np.ndarray, list[FaceDrawing]]: The annotated
        BGR copy (and the layout).
    """
    out = img.copy()
    style = drawing_style(img.shape[:2], thickness, scale)
    layout = layout_faces(faces, img.shape[:2], ids, style.thickness,
                          style.scale)
    t = style.thickness
    for drawing in layout:
        if drawing.leader is not None:
            start, end = drawing.leader
            # under the boxes; not anti-aliased: the face's exact colour
            cv2.line(out, start, end, OUTLINE, t + 2)
            cv2.line(out, start, end, drawing.colour, t)
    for face, drawing in zip(faces, layout):
        x1, y1, x2, y2 = drawing.box
        # a dark edge on both sides: the colour reads on light and dark
        cv2.rectangle(out, (x1, y1), (x2, y2), OUTLINE, t + 2)
        cv2.rectangle(out, (x1, y1), (x2, y2), drawing.colour, t)
        if landmarks and face.get('landmarks') is not None:
            for x, y in np.asarray(face['landmarks']).reshape(-1, 2):
                centre = (int(round(x)), int(round(y)))
                cv2.circle(out, centre, t + 2, OUTLINE, -1, cv2.LINE_AA)
                cv2.circle(out, centre, t + 1, drawing.colour, -1, cv2.LINE_AA)
    # all numbers, then all labels: a label never hides another one
    for attr in ('tag', 'label'):
        for drawing in layout:
            text = str(drawing.number) if attr == 'tag' else drawing.text
            _put_label_at(out, text, getattr(drawing, attr), style.scale,
                          drawing.colour, True, style.weight)
    return (out, layout) if return_layout else out


def overlay_heatmap(img: np.ndarray,
                    heatmap: np.ndarray,
                    alpha: float = 0.5) -> np.ndarray:
    """Blend a heatmap (any size, any range) over a BGR image.

    The map is scaled to [0, 1] by its own min and max, upsampled bilinearly
    to the image size and coloured with the JET colour map.

    Args:
        img (np.ndarray): BGR ``uint8`` image ``(H, W, 3)``.
        heatmap (np.ndarray): ``(h, w)`` map.
        alpha (float): Weight of the heatmap. Defaults to 0.5.

    Returns:
        np.ndarray: ``(H, W, 3)`` BGR ``uint8``.
    """
    heatmap = heatmap.astype(np.float32)
    heatmap = heatmap - heatmap.min()
    heatmap = heatmap / max(float(heatmap.max()), 1e-12)
    heatmap = cv2.resize(
        heatmap, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
    colored = cv2.applyColorMap(np.uint8(255 * heatmap), cv2.COLORMAP_JET)
    return cv2.addWeighted(colored, alpha, img, 1 - alpha, 0)


def face_pixels(img: np.ndarray, face: dict) -> np.ndarray:
    """The crop a face result was classified from (for drawing).

    Args:
        img (np.ndarray): The image the face was found in.
        face (dict): A face result with ``crop_box`` and, for aligned
            crops, ``crop_matrix`` ``(2, 3)`` and ``crop_size``.
    """
    if face.get('crop_matrix') is not None:
        size = int(face['crop_size'])
        return cv2.warpAffine(
            img,
            np.asarray(face['crop_matrix'], np.float64), (size, size),
            flags=cv2.INTER_LINEAR,
            borderValue=0)
    x1, y1, x2, y2 = face['crop_box']
    return img[y1:y2, x1:x2]


PANEL_BACKGROUND = (40, 40, 40)  # BGR: around a crop that is not square


def fit_in_square(img: np.ndarray, size: int) -> Tuple[np.ndarray, Rect]:
    """Scale ``img`` to fit a ``size`` square, keeping its aspect.

    Returns:
        tuple[np.ndarray, Rect]: The scaled image and its ``x, y, w, h``
        centred in the square.
    """
    h, w = img.shape[:2]
    scale = size / max(h, w, 1)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    scaled = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return scaled, ((size - new_w) // 2, (size - new_h) // 2, new_w, new_h)


def draw_attention_panels(img: np.ndarray,
                          faces: Sequence[dict],
                          panel_size: int = 160,
                          titles: Optional[List[str]] = None,
                          ids: Optional[Sequence[int]] = None,
                          numbered: bool = True) -> np.ndarray:
    """DAN's Figure 1: each face, then each head's attention on it.

    One row per face, ``K + 1`` square panels per row: the face crop the
    model saw, then the crop overlaid with head k's spatial attention map
    (upsampled from the backbone's resolution, e.g. 7x7). A crop that is not
    square (a box crop; the model sees it resized to its square input) keeps
    its aspect, centred on a dark ground, the maps stretched over it as the
    model's input was. Each row is framed in its face's colour, with the
    face's number on its first panel, as :func:`draw_faces` marks the face.

    Args:
        img (np.ndarray): BGR image the faces were found in.
        faces (Sequence[dict]): Face results with ``crop_box`` (or, aligned,
            ``crop_matrix`` and ``crop_size``) and ``attention_maps``
            ``(K, h, w)``.
        panel_size (int): Side of every panel in pixels. Defaults to 160.
        titles (list[str], optional): Text on each row's panels; defaults to
            ``<class> <score>``, ``head 1`` ... ``head K``.
        ids (Sequence[int], optional): Each face's number; defaults to
            :func:`~.palette.face_number` (track id, else place from 1).
        numbered (bool): Number and colour the rows (False: rows that are
            not faces of one image, e.g. training samples). Defaults to
            True.

    Returns:
        np.ndarray: BGR image ``(len(faces) * panel_size,
        (K + 1) * panel_size, 3)``.
    """
    if not faces:
        raise InputError('no face to draw the attention of')
    style = drawing_style((panel_size, panel_size), scale=0.5)
    rows = []
    for i, face in enumerate(faces):
        crop, (x, y, w, h) = fit_in_square(face_pixels(img, face), panel_size)
        maps = face['attention_maps']
        panels = []
        for drawn in [crop] + [overlay_heatmap(crop, m) for m in maps]:
            panel = np.full((panel_size, panel_size, 3), PANEL_BACKGROUND,
                            np.uint8)
            panel[y:y + h, x:x + w] = drawn
            panels.append(panel)
        names = titles or ([
            f'{face.get("pred_class", face["pred_label"])} '
            f'{face["pred_score"]:.2f}'
        ] + [f'head {k + 1}' for k in range(len(maps))])
        inset = 6 if numbered else 0  # inside the row's frame
        for panel, name in zip(panels, names):
            _put_label(panel, name, inset, panel_size - inset, scale=0.4)
        row = np.concatenate(panels, axis=1)
        if numbered:
            number = face_number(face, i) if ids is None else int(ids[i])
            colour = face_colour_bgr(number)
            right, bottom = row.shape[1] - 1, panel_size - 1
            # 4 px of the face's colour, edged inside in dark grey
            cv2.rectangle(row, (0, 0), (right, bottom), colour, 8)
            cv2.rectangle(row, (4, 4), (right - 4, bottom - 4), OUTLINE, 1)
            tag_w, tag_h = _text_rect_size(f'#{number}', style)
            _put_label_at(row, f'#{number}', (inset, inset, tag_w, tag_h),
                          style.scale, colour, True, style.weight)
        rows.append(row)
    return np.concatenate(rows, axis=0)


def draw_confusion_matrix(cm: torch.Tensor, names: List[str]) -> np.ndarray:
    """The confusion matrix as an image, drawn as ``confusion_matrix.png``.

    Args:
        cm (Tensor): ``(num_classes, num_classes)`` counts, rows = truth.
        names (list[str]): Class names.

    Returns:
        np.ndarray: RGB ``uint8`` image ``(H, W, 3)`` (matplotlib's Agg
        renderer, whatever the interactive backend).
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from mmpretrain.evaluation.metrics import ConfusionMatrix
    fig = ConfusionMatrix.plot(
        cm, include_values=True, classes=names, show=False)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image
