"""Photos in: a path, an array, a folder or a list of them, read in chunks
that hold a batch of faces."""
import os.path as osp
from pathlib import Path
from typing import Callable, Iterator, List

import numpy as np

from ..utils.image_io import list_image_files


def inputs_to_list(inputs) -> list:
    """A folder becomes its image files (sorted); anything else a list."""
    if isinstance(inputs, (str, Path)) and osp.isdir(inputs):
        return list_image_files(str(inputs))
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    return list(inputs)


def no_faces() -> dict:
    """The faces of an image without any (see
    :meth:`~dan_mm.inference.FaceCropper.crop_faces`)."""
    return dict(
        boxes=np.zeros((0, 4), np.float32),
        det_scores=np.zeros(0, np.float32),
        landmarks=None,
        crops=[])


def chunk_images(inputs: list,
                 load: Callable[[object, int], dict],
                 batch_size: int,
                 skip_errors: bool = False) -> Iterator[List[dict]]:
    """Read images until they hold ``batch_size`` faces (or run out).

    Args:
        inputs (list): Paths or BGR arrays.
        load (callable): ``(input, index) -> image`` dict with ``boxes``
            (:meth:`~dan_mm.inference.FERInferencer.load_image`).
        batch_size (int): Faces per chunk (at least).
        skip_errors (bool): An unreadable input becomes an image with no
            face and an ``error`` message instead of raising.

    Yields:
        list[dict]: The images of one chunk.
    """
    chunk, num_faces = [], 0
    for index, input_ in enumerate(inputs):
        try:
            image = load(input_, index)
        except (OSError, ValueError) as error:
            if not skip_errors:
                raise
            image = dict(
                input=str(input_),
                name=None,
                img=None,
                error=str(error),
                **no_faces())
        chunk.append(image)
        num_faces += len(image['boxes'])
        if num_faces >= batch_size:
            yield chunk
            chunk, num_faces = [], 0
    if chunk:
        yield chunk
