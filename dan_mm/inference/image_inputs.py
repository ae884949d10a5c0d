"""Photos in: a path, an array, a folder or a list of them, read in chunks
that hold a batch of faces."""
import os.path as osp
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator, List, NamedTuple

import numpy as np

from ..utils.image_io import list_image_files, scan_folder

__all__ = [
    'ImageInputs', 'collect_inputs', 'inputs_to_list', 'list_image_files',
    'chunk_images', 'no_faces'
]


class ImageInputs(NamedTuple):
    """Inputs gathered by :func:`collect_inputs`.

    Attributes:
        items (list): Image paths (str) and BGR arrays, in order.
        names (list[str]): Per item, the name of its output files
            (``<name>.png``), distinct within the inputs.
        other_files (list[str]): Files of the folders that are not images
            (not read).
        subfolders (list[str]): Subfolders of the folders (not read, unless
            collected with ``recursive``).
    """
    items: list
    names: List[str]
    other_files: List[str]
    subfolders: List[str]


def collect_inputs(inputs, recursive: bool = False) -> ImageInputs:
    """Expand the inputs of an inferencer into images, each with a distinct
    output name.

    A folder, given alone or in a list, becomes its image files (sorted),
    with ``recursive`` those of its subfolders too. An image's output name
    is its path relative to the folder it was found in, without extension
    (``photos/sub/a.jpg`` -> ``sub/a``; a file given itself: its stem; an
    array: its index, ``000002``). Where names would collide (``a.jpg`` and
    ``a.png``), those keep their extension (``a_jpg``, ``a_png``); what
    still collides (``x/a.jpg``, ``y/a.jpg`` in one list) is numbered
    (``a_jpg``, ``a_jpg_2``).

    Args:
        inputs (str | Path | np.ndarray | list | ImageInputs): An image
            path, a BGR array, a folder, or a list of these (an
            :class:`ImageInputs` is returned as it is).
        recursive (bool): Also read the subfolders of folders. Defaults to
            False.

    Returns:
        ImageInputs: The images, their names, and what the folders held
        that is not read.
    """
    if isinstance(inputs, ImageInputs):
        return inputs
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    items, stems, exts = [], [], []
    other_files, subfolders = [], []
    for input_ in inputs:
        if isinstance(input_, (str, Path)) and osp.isdir(input_):
            found = scan_folder(str(input_), recursive)
            other_files += found.other_files
            subfolders += found.subfolders
            for path in found.images:
                stem, ext = osp.splitext(osp.relpath(path, str(input_)))
                items.append(path)
                stems.append(stem)
                exts.append(ext)
        elif isinstance(input_, (str, Path)):
            stem, ext = osp.splitext(osp.basename(str(input_)))
            items.append(str(input_) if isinstance(input_, Path) else input_)
            stems.append(stem)
            exts.append(ext)
        else:  # an array: named by its place, as before
            items.append(input_)
            stems.append(f'{len(items) - 1:06d}')
            exts.append('')
    return ImageInputs(items, _distinct_names(stems, exts), other_files,
                       subfolders)


def _distinct_names(stems: List[str], exts: List[str]) -> List[str]:
    """``stems``, with the extension kept where two would be the same
    (compared case-blind: some file systems are), then numbered."""
    clashes = Counter(stem.casefold() for stem in stems)
    names = [
        f'{stem}_{ext.lstrip(".")}'
        if clashes[stem.casefold()] > 1 and ext else stem
        for stem, ext in zip(stems, exts)
    ]
    seen, distinct = Counter(), []
    for name in names:
        seen[name.casefold()] += 1
        count = seen[name.casefold()]
        distinct.append(name if count == 1 else f'{name}_{count}')
    return distinct


def inputs_to_list(inputs) -> list:
    """The images of ``inputs`` (:func:`collect_inputs`'s ``items``): a
    folder, also within a list, becomes its image files (sorted)."""
    return collect_inputs(inputs).items


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
