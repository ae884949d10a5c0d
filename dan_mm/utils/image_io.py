"""One image decoder for every path: training, inference, demo, tools.

:func:`decode_image` turns a file (or its bytes) into the 8-bit BGR array
``(H, W, 3)`` that OpenCV, mmcv and mmpretrain's pipelines expect, the same
array for the same file whichever path reads it. It takes what photos and
face data sets contain:

- EXIF orientation (phone photos) is applied;
- grayscale, palette and 1-bit images are replicated / expanded to BGR;
- alpha (RGBA, LA, PA, transparent palettes) is dropped, as OpenCV and
  ``mmcv.imread`` do (no compositing on a background);
- CMYK JPEGs are converted to RGB;
- 16-bit images (PNG, TIFF; grayscale and colour) are scaled to 8 bits as
  ``round(v / 257)`` (65535 -> 255), at full precision: Pillow keeps only
  the high byte of 16-bit colour, so those are decoded with OpenCV;
- animated GIF, WebP, PNG and multi-page TIFF: the first frame.

It lives in :mod:`dan_mm.utils` (which imports nothing else of dan_mm) so
that the data sets, the inferencer and the demo can all import it.

Every failure is one :class:`~dan_mm.utils.errors.UnreadableImageError`,
``cannot read image <name>: <reason>``: a missing or zero-byte file, a
truncated JPEG, data no decoder accepts, a damaged file, and an image with
more pixels than the limit. The limit guards against decompression bombs
(a few kB of PNG that claim 40000 x 40000 pixels): the size is read from
the header and the image refused before any pixel is decoded. It is
:data:`DEFAULT_MAX_IMAGE_PIXELS` (Pillow's own warning threshold, about
89.5 million pixels, e.g. 9459 x 9459), or the environment variable
``DAN_MM_MAX_IMAGE_PIXELS``; Pillow's hard limit (twice
``PIL.Image.MAX_IMAGE_PIXELS``) applies on top of it.
"""
import io
import os
import os.path as osp
import re
import warnings
from pathlib import Path
from typing import List, NamedTuple, Optional, Union

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError
from torchvision.datasets.folder import IMG_EXTENSIONS

from .errors import ConfigError, UnreadableImageError

DEFAULT_MAX_IMAGE_PIXELS = 89_478_485  # PIL.Image.MAX_IMAGE_PIXELS' default
MAX_PIXELS_ENV = 'DAN_MM_MAX_IMAGE_PIXELS'

# EXIF orientation -> the numpy equivalent of what ImageOps.exif_transpose
# does with PIL's Image.Transpose (applied to HxWxC arrays).
_ORIENTATIONS = {
    2: lambda a: a[:, ::-1],  # FLIP_LEFT_RIGHT
    3: lambda a: a[::-1, ::-1],  # ROTATE_180
    4: lambda a: a[::-1],  # FLIP_TOP_BOTTOM
    5: lambda a: a.transpose(1, 0, 2),  # TRANSPOSE
    6: lambda a: np.rot90(a, -1),  # ROTATE_270 (90 degrees clockwise)
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # TRANSVERSE
    8: lambda a: np.rot90(a, 1),  # ROTATE_90 (counter-clockwise)
}
_EXIF_ORIENTATION = 0x0112
# OpenCV, for what Pillow cannot read at full depth: keep 16 bits and every
# channel, as stored (OpenCV then leaves EXIF orientation to us).
_CV2_FLAGS = cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH
ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview]


def max_image_pixels() -> int:
    """The pixel limit: ``DAN_MM_MAX_IMAGE_PIXELS`` or the default.

    Returns:
        int: The largest number of pixels :func:`decode_image` decodes.

    Raises:
        ConfigError: The environment variable is not a positive integer.
    """
    value = os.environ.get(MAX_PIXELS_ENV)
    if value is None or value.strip() == '':
        return DEFAULT_MAX_IMAGE_PIXELS
    try:
        limit = int(float(value))
    except ValueError:
        limit = 0
    if limit < 1:
        raise ConfigError(
            f'environment variable {MAX_PIXELS_ENV}={value!r} is not a '
            'positive number of pixels; set it to e.g. 200000000, or unset '
            f'it for the default ({DEFAULT_MAX_IMAGE_PIXELS})')
    return limit


class FolderContents(NamedTuple):
    """What :func:`scan_folder` found: ``images`` (paths, sorted),
    ``other_files`` (files that are not images) and ``subfolders`` (those
    not read, without ``recursive``)."""
    images: List[str]
    other_files: List[str]
    subfolders: List[str]


def scan_folder(folder: str, recursive: bool = False) -> FolderContents:
    """Sort the entries of ``folder`` into image files (torchvision's
    ``IMG_EXTENSIONS``, any case), other files and subfolders, so that a
    caller can say what it did not read.

    Args:
        folder (str): The folder.
        recursive (bool): Include the subfolders' files (then no subfolder
            is left out). Defaults to False.

    Returns:
        FolderContents: Each list sorted by path.
    """
    files, subfolders = [], []
    if recursive:
        files = [
            osp.join(root, name) for root, _, names in os.walk(folder)
            for name in names
        ]
    else:
        for entry in os.scandir(folder):
            (subfolders if entry.is_dir() else files).append(
                osp.join(folder, entry.name))
    images = [p for p in files if p.lower().endswith(IMG_EXTENSIONS)]
    others = [p for p in files if not p.lower().endswith(IMG_EXTENSIONS)]
    return FolderContents(sorted(images), sorted(others), sorted(subfolders))


def list_image_files(folder: str, recursive: bool = False) -> List[str]:
    """The image files of ``folder`` (torchvision's ``IMG_EXTENSIONS``, any
    case), sorted by path (:func:`scan_folder`'s ``images``).

    Args:
        folder (str): The folder.
        recursive (bool): Include subfolders. Defaults to False.

    Returns:
        list[str]: The paths.
    """
    return scan_folder(folder, recursive).images


def decode_image(source: ImageSource,
                 name: Optional[str] = None,
                 max_pixels: Optional[int] = None,
                 max_side: Optional[int] = None,
                 return_size: bool = False):
    """Decode an image file (or its bytes) to an 8-bit BGR array.

    Args:
        source (str | PathLike | bytes): A file path, or the file's bytes.
        name (str, optional): What error messages call the image. Defaults
            to the path, or ``'(bytes)'``.
        max_pixels (int, optional): Refuse images with more pixels, from
            the header, before decoding. Defaults to
            :func:`max_image_pixels` (``DAN_MM_MAX_IMAGE_PIXELS`` or
            :data:`DEFAULT_MAX_IMAGE_PIXELS`).
        max_side (int, optional): Shrink the image (area interpolation,
            aspect kept) so that its longer side is at most this; JPEGs are
            decoded at a reduced scale first when that is large enough.
            Defaults to None (full size).
        return_size (bool): Also return the stored ``(width, height)``
            (before orientation and shrinking). Defaults to False.

    Returns:
        np.ndarray | tuple[np.ndarray, tuple[int, int]]: The ``(H, W, 3)``
        ``uint8`` BGR image, and with ``return_size`` the stored size.

    Raises:
        UnreadableImageError: ``cannot read image <name>: <reason>``.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), name or '(bytes)'
    else:
        name = name or str(source)
        data = _read_file(source, name)

    def fail(reason: str) -> UnreadableImageError:
        return UnreadableImageError(f'cannot read image {name}: {reason}')

    if not data:
        raise fail('zero-byte file')
    if data[:2] == b'\xff\xd8' and data.rfind(b'\xff\xd9') < data.rfind(
            b'\xff\xda'):
        # No end-of-image marker after the last scan: decoders would fill
        # the missing part with grey.
        raise fail('truncated JPEG (no end-of-image marker): the file is '
                   'damaged or cut short')
    explicit_limit = max_pixels is not None
    limit = max_pixels if explicit_limit else max_image_pixels()
    try:
        pil = _open(data)
    except Image.DecompressionBombError as err:
        # Past Pillow's own hard limit, which gives no width and height.
        size = re.search(r'\((\d+) pixels\)', str(err))
        pixels = int(size.group(1)) if size else limit + 1
        pillow_limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        if limit < pillow_limit:
            reason = _too_large(f'{pixels} pixels', pixels, limit,
                                explicit_limit)
        else:
            reason = _too_large(
                f'{pixels} pixels', pixels, pillow_limit, True,
                'Pillow\'s (twice PIL.Image.MAX_IMAGE_PIXELS)')
        raise fail(reason) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            EOFError):
        pil = None  # maybe OpenCV reads it (below)
    if pil is not None:
        width, height = pil.size
        if width * height > limit:
            raise fail(
                _too_large(f'{width}x{height} pixels', width * height, limit,
                           explicit_limit))
        try:
            img = _pil_to_bgr(pil, data, max_side)
        except (OSError, ValueError, SyntaxError, EOFError, cv2.error) as err:
            reason = str(err).strip().splitlines()[-1] if str(err) else \
                type(err).__name__
            raise fail(f'the file is damaged or cut short ({reason})') \
                from None
    else:
        img = _cv2_decode(data)
        if img is None:
            raise fail(f'corrupt or not an image ({len(data)} bytes that no '
                       'decoder accepts; JPEG, PNG, WebP, BMP, GIF and TIFF '
                       'are read)')
        height, width = img.shape[:2]
        if width * height > limit:  # decoded already: OpenCV's own format
            raise fail(
                _too_large(f'{width}x{height} pixels', width * height, limit,
                           explicit_limit))
    img = _shrink(img, max_side)
    return (img, (width, height)) if return_size else img


def _read_file(path, name: str) -> bytes:
    """The bytes of ``path``; a missing or unreadable file is one line."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UnreadableImageError(
            f'cannot read image {name}: file not found') from None
    except OSError as err:
        raise UnreadableImageError(
            f'cannot read image {name}: {err.strerror or err}') from None


def _open(data: bytes) -> Image.Image:
    """Pillow's lazy open: the header only, no pixel decoded yet."""
    with warnings.catch_warnings():
        # Between Pillow's warning and error thresholds; our limit decides.
        warnings.simplefilter('ignore', Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def _too_large(size: str,
               pixels: int,
               limit: int,
               explicit: bool,
               whose: str = 'the') -> str:
    how = 'scale it down and try again' if explicit else (
        f'scale it down, or raise the limit with the environment variable '
        f'{MAX_PIXELS_ENV}=<pixels>')
    return (f'too large: {size} ({pixels / 1e6:.0f} MP), more than {whose} '
            f'limit of {limit} pixels ({limit / 1e6:.3g} MP) that guards '
            f'against decompression bombs; {how}')


def _raw_modes(pil: Image.Image) -> list:
    """The raw (stored) modes of the image's tiles, e.g. ``'RGB;16B'``."""
    modes = []
    for tile in getattr(pil, 'tile', None) or []:
        args = tile[3] if len(tile) > 3 else None
        raw = args[0] if isinstance(args, tuple) and args else args
        if isinstance(raw, str):
            modes.append(raw)
    return modes


def _pil_to_bgr(pil: Image.Image, data: bytes,
                max_side: Optional[int]) -> np.ndarray:
    """Decode a header-checked Pillow image to oriented 8-bit BGR."""
    deep_colour = not pil.mode.startswith('I') and any(
        ';16' in raw for raw in _raw_modes(pil))
    if deep_colour:
        # 16-bit colour (or gray + alpha): Pillow would keep the high byte.
        img = _cv2_decode(data)
        if img is None:
            raise ValueError('OpenCV cannot decode its 16-bit data')
    else:
        if max_side is not None and pil.format == 'JPEG':
            pil.draft(pil.mode, (max_side, max_side))  # DCT scaling
        pil.load()
        img = _to_bgr(pil)
    try:
        orientation = pil.getexif().get(_EXIF_ORIENTATION)
    except Exception:  # a damaged EXIF block: keep the stored orientation
        orientation = None
    if orientation in _ORIENTATIONS:
        img = np.ascontiguousarray(_ORIENTATIONS[orientation](img))
    return img


def _to_bgr(pil: Image.Image) -> np.ndarray:
    """A loaded Pillow image of any mode as 8-bit BGR."""
    if pil.mode.startswith('I') or pil.mode == 'F':
        arr = np.asarray(pil)
        if pil.mode == 'F':  # floats: taken as 0-255 values
            gray = np.clip(arr, 0, 255).round().astype(np.uint8)
        else:  # 16-bit ('I;16*'), or 32-bit ints taken as 16-bit values
            gray = _scale_16_bit(np.clip(arr, 0, 65535))
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if pil.mode != 'RGB':
        try:
            pil = pil.convert('RGB')  # palette, gray, alpha, CMYK, ...
        except ValueError:  # premultiplied and rarer modes
            pil = pil.convert('RGBA').convert('RGB')
    return cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)


def _cv2_decode(data: bytes) -> Optional[np.ndarray]:
    """OpenCV's decode, normalised to 8-bit BGR; None if it cannot."""
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), _CV2_FLAGS)
    except cv2.error:
        return None
    if img is None:
        return None
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 3 and img.shape[2] == 2:  # gray + alpha
        img = img[..., 0]
    if img.ndim == 3 and img.shape[2] == 4:  # alpha dropped
        img = img[..., :3]
    if img.dtype == np.uint16:
        img = _scale_16_bit(img)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).round().astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img)


def _scale_16_bit(arr: np.ndarray) -> np.ndarray:
    """16-bit values to 8 bits: ``round(v / 257)``, so 65535 -> 255."""
    return (arr.astype(np.float32) / 257.).round().astype(np.uint8)


def _shrink(img: np.ndarray, max_side: Optional[int]) -> np.ndarray:
    """Area-downsize so that the longer side is at most ``max_side``."""
    height, width = img.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return img
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)
