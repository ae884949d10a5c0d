"""One colour per face, the same in every picture, video and web page.

A face's number is its track id in a video, else its place in the result
plus one; its colour is ``PALETTE[(number - 1) % len(PALETTE)]``. The
palette is matplotlib's ``tab10`` (a qualitative palette made to stay apart
and readable) followed by the light half of ``tab20``: 20 colours before one
repeats. Drawings outline them in dark grey so that they also stand out on
light photos.

Classes get their own palette, :data:`CLASS_PALETTE` (Okabe and Ito's
eight colours, made to stay apart for colour-blind readers too), in every
plot that colours classes (:func:`class_colours`).
"""
from typing import List, Optional, Tuple

# matplotlib's tab10, then the light colours of tab20 (hex RGB)
PALETTE = ('#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
           '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#aec7e8', '#ffbb78',
           '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#c7c7c7',
           '#dbdb8d', '#9edae5')
OUTLINE = (32, 32, 32)  # BGR: the dark edge around boxes, dots, labels

# Okabe & Ito, "Color Universal Design" (2008): orange, sky blue, bluish
# green, reddish purple, blue, vermillion, black, yellow. Ordered so that
# seven classes (RAF-DB) leave out the yellow, which reads worst on white;
# any two stay >= 15 CIELAB units apart also under simulated protanopia,
# deuteranopia and tritanopia (tests/test_visualization/test_palette.py).
CLASS_PALETTE = ('#e69f00', '#56b4e9', '#009e73', '#cc79a7', '#0072b2',
                 '#d55e00', '#000000', '#f0e442')

BGR = Tuple[int, int, int]


def face_number(face: dict, index: int) -> int:
    """A face's number: its ``track_id`` if it has one, else ``index + 1``.

    Args:
        face (dict): A face result or record.
        index (int): Its place (0-based) among its image's faces.
    """
    track_id: Optional[int] = face.get('track_id')
    return int(track_id) if track_id is not None else index + 1


def class_colours(num_classes: int) -> List[str]:
    """The colour of each class as ``'#rrggbb'``, class ``i`` in
    ``CLASS_PALETTE[i]`` (repeating after eight classes)."""
    return [CLASS_PALETTE[i % len(CLASS_PALETTE)] for i in range(num_classes)]


def face_colour(number: int) -> str:
    """The colour of face ``number`` (from 1) as ``'#rrggbb'`` (for web
    pages and matplotlib)."""
    return PALETTE[(int(number) - 1) % len(PALETTE)]


def face_colour_bgr(number: int) -> BGR:
    """The colour of face ``number`` (from 1) as an OpenCV BGR tuple."""
    rgb = face_colour(number)
    return int(rgb[5:7], 16), int(rgb[3:5], 16), int(rgb[1:3], 16)


def text_colour_bgr(background: BGR) -> BGR:
    """Black or white, whichever reads better on ``background`` (BGR), by
    its relative luminance (WCAG's contrast ratio)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055)**2.4

    b, g, r = (linear(c) for c in background)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # contrast with black (L + 0.05) / 0.05 against white 1.05 / (L + 0.05)
    return (0, 0, 0) if (luminance + 0.05)**2 > 0.0525 else (255, 255, 255)


def face_style(number: int) -> dict:
    """What a web page needs to show face ``number`` as the drawing does:
    ``{'number': 3, 'colour': '#2ca02c', 'text_colour': '#000000'}``."""
    text = text_colour_bgr(face_colour_bgr(number))
    return dict(
        number=int(number),
        colour=face_colour(number),
        text_colour='#000000' if text == (0, 0, 0) else '#ffffff')
