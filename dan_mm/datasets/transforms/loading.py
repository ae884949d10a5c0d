"""Load a face image of any common format as 8-bit BGR, or say why not."""
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.logging import MMLogger
from mmpretrain.registry import TRANSFORMS

from dan_mm.utils.errors import ConfigError, DataError, UnreadableImageError
from dan_mm.utils.image_io import decode_image


@TRANSFORMS.register_module()
class LoadFaceImage(LoadImageFromFile):
    """Load an image as a 3-channel 8-bit BGR array, with clear errors.

    A drop-in replacement for ``LoadImageFromFile`` (same results on ordinary
    8-bit colour images) that decodes with
    :func:`dan_mm.utils.image_io.decode_image`, the decoder the inferencer
    and the web demo use too, so that training and inference see the same
    pixels. It accepts the other images face data sets contain:

    - EXIF orientation applied;
    - grayscale, palette, CMYK: converted to BGR;
    - alpha (RGBA, LA, transparent palettes): dropped, as
      ``LoadImageFromFile`` does;
    - 16-bit (PNG, TIFF): scaled to 8 bits (``v / 257``, so 65535 -> 255);
    - animated GIF / WebP / PNG, multi-page TIFF: the first frame;
    - huge images: downsized with area interpolation so that the longer side
      is at most ``max_side``, keeping the aspect ratio;
    - whole photos with a face box: a sample with ``face_box=(x, y, w, h)``
      in pixels (AffectNet's CSVs give one per image) is cropped to that box
      (clipped to the image) before anything else sees it.

    Anything it cannot read stops with one line naming the file and the
    reason, ``cannot read image <path>: <reason>``, for a missing file, a
    zero-byte file, a truncated JPEG (no end-of-image marker), data that
    no decoder accepts (corrupt or not an image), and an image with more
    pixels than the decompression-bomb limit (read from the header, before
    decoding; ``DAN_MM_MAX_IMAGE_PIXELS`` raises it).

    With ``skip_unreadable=True`` such an image makes the transform return
    None instead, with a warning that counts the skipped images. In training
    mmengine's ``BaseDataset`` then draws another sample in its place; a data
    set in test mode refuses None (every test image must count), so use it
    in training pipelines only.

    Args:
        max_side (int, optional): Downsize images whose longer side exceeds
            this. None keeps every size. Defaults to 2048.
        skip_unreadable (bool): Return None (and log) for unreadable images
            instead of raising. Defaults to False.
        to_float32 (bool): Return a float32 array. Defaults to False.
        backend_args (dict, optional): File backend arguments, as in
            ``LoadImageFromFile``. Defaults to None.
    """

    def __init__(self,
                 max_side: Optional[int] = 2048,
                 skip_unreadable: bool = False,
                 to_float32: bool = False,
                 *,
                 backend_args: Optional[dict] = None):
        super().__init__(to_float32=to_float32, backend_args=backend_args)
        if max_side is not None and max_side < 1:
            raise ConfigError(
                f'LoadFaceImage max_side must be positive, got {max_side}')
        self.max_side = max_side
        self.skip_unreadable = skip_unreadable
        self.num_skipped = 0

    def read(self, filename: str) -> np.ndarray:
        """Read and decode one image, normalised to 8-bit BGR.

        Args:
            filename (str): Path (or URI for ``backend_args``) of the image.

        Returns:
            np.ndarray: ``(H, W, 3)`` uint8 BGR image.

        Raises:
            UnreadableImageError: ``cannot read image <path>: <reason>``.
        """
        try:
            img_bytes = fileio.get(filename, backend_args=self.backend_args)
        except FileNotFoundError:
            raise UnreadableImageError(
                f'cannot read image {filename}: file not found') from None
        except OSError as err:
            raise UnreadableImageError(
                f'cannot read image {filename}: {err.strerror or err}'
            ) from None
        return decode_image(img_bytes, name=filename, max_side=self.max_side)

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']`` into ``results['img']``.

        A sample that already holds ``img`` and no ``img_path`` passes
        through unchanged.

        Args:
            results (dict): A data sample with ``img_path``.

        Returns:
            dict | None: The sample with ``img`` (cropped to ``face_box``
            when the sample has one), ``img_shape`` and ``ori_shape``; None
            for an unreadable image when ``skip_unreadable``.
        """
        if 'img_path' not in results and 'img' in results:
            # Decoded in memory by the data set (FER2013, FERPlus): nothing
            # to load, so every data set can share one pipeline.
            return results
        try:
            img = self.read(results['img_path'])
        except UnreadableImageError as err:
            if not self.skip_unreadable:
                raise
            self.num_skipped += 1
            MMLogger.get_current_instance().warning(
                f'{err}; skipped ({self.num_skipped} unreadable image(s) '
                'skipped so far by this loader)')
            return None
        if results.get('face_box') is not None:
            img = crop_face_box(img, results['face_box'], results['img_path'])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_side={self.max_side}, '
                f'skip_unreadable={self.skip_unreadable}, '
                f'to_float32={self.to_float32}, '
                f'backend_args={self.backend_args})')


def crop_face_box(img: np.ndarray, box, path: str) -> np.ndarray:
    """Crop ``img`` to ``box = (x, y, w, h)`` (pixels), clipped to the image.

    Args:
        img (np.ndarray): ``(H, W, C)`` image.
        box (Sequence[float]): Top-left corner, width and height.
        path (str): The image's file, for the error message.

    Returns:
        np.ndarray: The crop, a contiguous copy.

    Raises:
        DataError: The box lies outside the image.
    """
    height, width = img.shape[:2]
    x, y, w, h = (float(v) for v in box)
    left, top = max(0, int(round(x))), max(0, int(round(y)))
    right, bottom = min(width, int(round(x + w))), min(height,
                                                       int(round(y + h)))
    if right <= left or bottom <= top:
        raise DataError(
            f'face box (x={x:g}, y={y:g}, w={w:g}, h={h:g}) of {path} lies '
            f'outside its {width}x{height} image; fix the box in the '
            'annotation, or pass use_face_box=False to the data set if the '
            'images are already cropped')
    return np.ascontiguousarray(img[top:bottom, left:right])
