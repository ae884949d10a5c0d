"""Drawing FER results: boxes with labels, per-head attention panels and
the confusion matrix."""
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch

from dan_mm.utils.errors import InputError

BOX_COLOR = (0, 200, 0)  # BGR
TEXT_COLOR = (255, 255, 255)


def _put_label(img: np.ndarray,
               text: str,
               x: int,
               y: int,
               scale: float = 0.5) -> None:
    """Write ``text`` on a filled box whose bottom-left corner is (x, y),
    moved left or down where it would leave the image."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x = max(0, min(x, img.shape[1] - tw))
    y = max(y, th + base)
    cv2.rectangle(img, (x, y - th - base), (x + tw, y), BOX_COLOR, -1)
    cv2.putText(img, text, (x, y - base), cv2.FONT_HERSHEY_SIMPLEX, scale,
                TEXT_COLOR, 1, cv2.LINE_AA)


def draw_faces(img: np.ndarray, faces: Sequence[dict]) -> np.ndarray:
    """Draw every face's box with ``"<class> <score>"`` above it.

    Args:
        img (np.ndarray): BGR image ``(H, W, 3)``; not modified.
        faces (Sequence[dict]): Face results with ``box``, ``pred_class``
            (or ``pred_label``) and ``pred_score``.

    Returns:
        np.ndarray: The annotated BGR copy.
    """
    out = img.copy()
    thickness = max(1, round(max(img.shape[:2]) / 300))
    for face in faces:
        x1, y1, x2, y2 = (int(round(v)) for v in face['box'])
        cv2.rectangle(out, (x1, y1), (x2, y2), BOX_COLOR, thickness)
        name = face.get('pred_class', face['pred_label'])
        _put_label(
            out,
            f'{name} {face["pred_score"]:.2f}',
            x1,
            y1,
            scale=max(0.4, thickness * 0.4))
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
    # Imported here: dan_mm.apis imports this module.
    from dan_mm.apis.face_alignment import face_pixels
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
