"""Drawing FER results: boxes with labels, per-head attention panels and
the confusion matrix."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from dan_mm.utils.errors import InputError

BOX_COLOR = (0, 200, 0)  # BGR
TEXT_COLOR = (255, 255, 255)

FONT = cv2.FONT_HERSHEY_SIMPLEX
Rect = Tuple[int, int, int, int]  # x, y (top left), width, height


def _put_label(img: np.ndarray,
               text: str,
               x: int,
               y: int,
               scale: float = 0.5) -> None:
    """Write ``text`` on a filled box whose bottom-left corner is (x, y),
    moved left or down where it would leave the image."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    x = max(0, min(x, img.shape[1] - tw))
    y = max(y, th + base)
    _put_label_at(img, text, (x, y - th - base, tw, th + base), scale)


def _put_label_at(img: np.ndarray, text: str, rect: Rect,
                  scale: float) -> None:
    """Write ``text`` on a filled box filling ``rect``."""
    x, y, w, h = rect
    base = h - cv2.getTextSize(text, FONT, scale, 1)[0][1]
    cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), BOX_COLOR, -1)
    cv2.putText(img, text, (x, y + h - base), FONT, scale, TEXT_COLOR, 1,
                cv2.LINE_AA)


def _overlaps(a: Rect, b: Rect) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3]
            and b[1] < a[1] + a[3])


def layout_labels(boxes: Sequence[Sequence[float]],
                  sizes: Sequence[Tuple[int, int]],
                  img_shape: Tuple[int, int]) -> List[Rect]:
    """Place one label per box so that no two labels overlap.

    Labels are placed in order; each takes the first free place of: above
    its box, below it, inside its top edge, then (from above the box)
    moved down past every label in the way. Every place is first moved into
    the image. Only when the image has no free place left (more labels than
    fit) does a label overlap, at its place above the box.

    Args:
        boxes (Sequence): Face boxes ``x1, y1, x2, y2``.
        sizes (Sequence[tuple[int, int]]): ``(width, height)`` of each label.
        img_shape (tuple[int, int]): ``(H, W)`` of the image.

    Returns:
        list[tuple[int, int, int, int]]: Per label ``x, y, w, h``, top left
        corner and size, in pixels.
    """
    height, width = img_shape[:2]
    placed: List[Rect] = []

    def fit(x: float, y: float, w: int, h: int) -> Rect:
        return (int(max(0, min(round(x), width - w))),
                int(max(0, min(round(y), height - h))), w, h)

    def clashes(rect: Rect) -> List[Rect]:
        return [p for p in placed if _overlaps(rect, p)]

    for (x1, y1, x2, y2), (w, h) in zip(boxes, sizes):
        candidates = [
            fit(x1, y1 - h, w, h),
            fit(x1, y2, w, h),
            fit(x1, y1, w, h)
        ]
        rect = next((c for c in candidates if not clashes(c)), None)
        if rect is None:
            rect = candidates[0]
            while clashes(rect) and rect[1] + h <= height:
                below = max(p[1] + p[3] for p in clashes(rect))
                if below + h > height:
                    break
                rect = (rect[0], below, w, h)
            if clashes(rect):
                rect = candidates[0]
        placed.append(rect)
    return placed


def face_label(face: dict) -> str:
    """A face's label: ``"#<track id> <class> <score>"`` (the track id for
    video only)."""
    name = face.get('pred_class', face['pred_label'])
    text = f'{name} {face["pred_score"]:.2f}'
    if face.get('track_id') is not None:
        text = f'#{face["track_id"]} {text}'
    return text


def draw_faces(img: np.ndarray, faces: Sequence[dict]) -> np.ndarray:
    """Draw every face's box and its label, labels placed so that they do
    not overlap (:func:`layout_labels`).

    Args:
        img (np.ndarray): BGR image ``(H, W, 3)``; not modified.
        faces (Sequence[dict]): Face results with ``box``, ``pred_class``
            (or ``pred_label``), ``pred_score`` and, in a video, ``track_id``
            (see :func:`face_label`).

    Returns:
        np.ndarray: The annotated BGR copy.
    """
    out = img.copy()
    thickness = max(1, round(max(img.shape[:2]) / 300))
    scale = max(0.4, thickness * 0.4)
    texts = [face_label(face) for face in faces]
    sizes = []
    for text in texts:
        (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
        sizes.append((tw, th + base))
    for face in faces:
        x1, y1, x2, y2 = (int(round(v)) for v in face['box'])
        cv2.rectangle(out, (x1, y1), (x2, y2), BOX_COLOR, thickness)
    rects = layout_labels([face['box'] for face in faces], sizes,
                          img.shape[:2])
    for text, rect in zip(texts, rects):
        _put_label_at(out, text, rect, scale)
    return out


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


def draw_attention_panels(img: np.ndarray,
                          faces: Sequence[dict],
                          panel_size: int = 160,
                          titles: Optional[List[str]] = None) -> np.ndarray:
    """DAN's Figure 1: each face, then each head's attention on it.

    One row per face, ``K + 1`` square panels per row: the face crop the
    model saw, then the crop overlaid with head k's spatial attention map
    (upsampled from the backbone's resolution, e.g. 7x7).

    Args:
        img (np.ndarray): BGR image the faces were found in.
        faces (Sequence[dict]): Face results with ``crop_box`` (or, aligned,
            ``crop_matrix`` and ``crop_size``) and ``attention_maps``
            ``(K, h, w)``.
        panel_size (int): Side of every panel in pixels. Defaults to 160.
        titles (list[str], optional): Text on each row's panels; defaults to
            ``<class> <score>``, ``head 1`` ... ``head K``.

    Returns:
        np.ndarray: BGR image ``(len(faces) * panel_size,
        (K + 1) * panel_size, 3)``.
    """
    if not faces:
        raise InputError('no face to draw the attention of')
    rows = []
    for face in faces:
        crop = cv2.resize(
            face_pixels(img, face), (panel_size, panel_size),
            interpolation=cv2.INTER_LINEAR)
        maps = face['attention_maps']
        panels = [crop.copy()] + [overlay_heatmap(crop, m) for m in maps]
        names = titles or ([
            f'{face.get("pred_class", face["pred_label"])} '
            f'{face["pred_score"]:.2f}'
        ] + [f'head {k + 1}' for k in range(len(maps))])
        for panel, name in zip(panels, names):
            _put_label(panel, name, 0, panel_size, scale=0.4)
        rows.append(np.concatenate(panels, axis=1))
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
