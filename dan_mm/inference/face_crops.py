"""Turn folders of photos (one per expression) into folders of faces cut
exactly as inference cuts them, for fine-tuning a model on your own people.

Every photo of ``PHOTOS/<class>/`` (any depth) is read with the decoder
inference uses, its faces are found and cut by the model config's
:class:`~dan_mm.inference.face_finder.FaceFinder` (the detector and crop of
:class:`~dan_mm.inference.FERInferencer`), and written losslessly to
``OUT/<class>/`` as PNG. Photos with no face, several faces (the largest is
kept unless ``all_faces``) or that cannot be read are listed in
``OUT/crop_report.csv``. Nothing is overwritten: a photo whose face is
already in ``OUT`` is skipped, so a second run continues where the first
stopped.
"""
import csv
import os
import os.path as osp
from collections import Counter
from pathlib import Path
from typing import Callable, List, NamedTuple, Optional

import cv2
import numpy as np
from tqdm import tqdm

from ..runtime import resolve_model
from ..utils.cli import report_logger
from ..utils.config import load_config
from ..utils.errors import ConfigError, DataError, DataNotFoundError, UserError
from ..utils.image_io import decode_image, list_image_files
from .face_finder import FaceFinder

REPORT_NAME = 'crop_report.csv'
REPORT_HEADER = ['photo', 'class', 'problem']


class CropSummary(NamedTuple):
    """What :func:`crop_face_folders` did.

    Attributes:
        photos (int): Photos found.
        written (int): Faces written in this run.
        done (int): Photos skipped as their faces were already in ``out``.
        problems (list[tuple[str, str]]): ``(photo, problem)`` each.
        report (str): The CSV report.
    """
    photos: int
    written: int
    done: int
    problems: List[tuple]
    report: str

    def line(self) -> str:
        """The summary in one line."""
        kinds = Counter(problem.split(':')[0] for _, problem in self.problems)
        detail = ', '.join(f'{k}: {n}' for k, n in sorted(kinds.items()))
        return (f'{self.photos} photos: {self.written} faces written, '
                f'{self.done} photos done before, {len(self.problems)} '
                f'with problems{f" ({detail})" if detail else ""}; report: '
                f'{self.report}')


def load_model_config(model: str):
    """The config of the model faces are cut for, through the runtime's
    model resolution (:func:`dan_mm.runtime.resolve_model`, where released
    models' names resolve too).

    Args:
        model (str): A model config file (or a released model's name).

    Returns:
        Config: The config (its ``face_detector`` and ``face_crop``).

    Raises:
        ConfigError: ``model`` is neither.
    """
    try:
        cfg, _ = resolve_model(model)
    except ConfigError as err:
        raise ConfigError(
            f'model: {err}: give the config of the model you will '
            'fine-tune (e.g. configs/dan_r18_rafdb.py)') from None
    return load_config(cfg) if isinstance(cfg, str) else cfg


def output_names(photos: List[str], folder: str) -> List[str]:
    """Face file names (without ``.png``) for the photos of a class folder:
    the path below the folder without its extension, which keeps its
    extension too when two photos share a name (``a.jpg``, ``a.png``)."""
    stems = [osp.splitext(osp.relpath(p, folder))[0] for p in photos]
    count = Counter(stems)
    return [
        stem
        if count[stem] == 1 else f'{stem}_{osp.splitext(p)[1][1:].lower()}'
        for stem, p in zip(stems, photos)
    ]


def _write_png(path: str, img: np.ndarray) -> None:
    """Write losslessly, all at once (a crash leaves no half file)."""
    ok, data = cv2.imencode('.png', img)
    if not ok:
        raise DataError(f'could not encode the face for {path}')
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = f'{path}.part'
    with open(tmp, 'wb') as f:
        f.write(data.tobytes())
    os.replace(tmp, path)


def _read_report(path: str) -> dict:
    """``photo -> problem`` of an earlier run's report (empty if none)."""
    if not osp.isfile(path):
        return {}
    with open(path, newline='') as f:
        return {row['photo']: row['problem'] for row in csv.DictReader(f)}


def _box_area(box) -> float:
    x1, y1, x2, y2 = (float(v) for v in box)
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)


def crop_face_folders(photos: str,
                      out: str,
                      model,
                      all_faces: bool = False,
                      no_detect: bool = False,
                      detector=None,
                      detector_threads: Optional[int] = None,
                      on_problem: Optional[Callable[[str, str], None]] = None,
                      progress: bool = True) -> CropSummary:
    """Cut the faces of folders of photos as inference cuts them.

    Args:
        photos (str): A folder with one subfolder of photos per class.
        out (str): The output folder: ``out/<class>/<photo name>.png``
            (``_<i>`` added per face with ``all_faces``).
        model (str | Config): The model's config (its ``face_detector`` and
            ``face_crop``), or its path.
        all_faces (bool): Keep every face of a photo, not only the largest.
            Defaults to False.
        no_detect (bool): The photos already are face crops: each is cut as
            inference's ``no_detect`` does. Defaults to False.
        detector (str | dict | callable, optional): Overrides the config's
            detector. Defaults to None.
        detector_threads (int, optional): RetinaFace's CPU threads.
        on_problem (callable, optional): Called ``(photo, problem)`` for
            each photo with a problem, as it happens. Defaults to a log
            warning.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        CropSummary: Counts, the problems and the report's path.

    Raises:
        DataNotFoundError: ``photos`` is not a folder.
        DataError: It has no class folders.
    """
    if not osp.isdir(photos):
        raise DataNotFoundError(f'photos: folder not found: {photos}')
    classes = sorted(
        name for name in os.listdir(photos)
        if osp.isdir(osp.join(photos, name)) and not name.startswith('.'))
    if not classes:
        raise DataError(f'photos: {photos} has no class folders: put the '
                        'photos of each expression in a subfolder named '
                        'after it (happy/, sad/, ...)')
    cfg = load_model_config(model) if isinstance(model, str) else model
    finder = FaceFinder(
        cfg,
        detector=detector,
        no_detect=no_detect,
        detector_threads=detector_threads)
    if on_problem is None:
        on_problem = (lambda photo, problem: report_logger().warning(
            f'{photo}: {problem}'))
    jobs = []
    for name in classes:
        folder = osp.join(photos, name)
        files = list_image_files(folder, recursive=True)
        jobs += [(name, path, osp.join(out, name, stem))
                 for path, stem in zip(files, output_names(files, folder))]
    os.makedirs(out, exist_ok=True)
    report = osp.join(out, REPORT_NAME)
    before = _read_report(report)  # photos done before keep their entry
    problems, written, done = [], 0, 0

    def problem(name, path, what):
        problems.append((path, what, name))
        on_problem(path, what)

    for name, path, stem in tqdm(
            jobs, desc='cropping faces', unit='photo', disable=not progress):
        first = f'{stem}_0.png' if all_faces else f'{stem}.png'
        if osp.exists(first):
            done += 1
            if str(Path(path)) in before:
                problems.append((path, before[str(Path(path))], name))
            continue
        try:
            img = decode_image(path)  # inference's decoder
        except (UserError, OSError) as err:
            # the line names the photo already
            problem(name, path,
                    f'unreadable: {str(err).replace(f" {path}", "")}')
            continue
        found = finder.find_faces(img)
        crops = found['crops']
        if not crops:
            problem(name, path, 'no face')
            continue
        if all_faces:
            for i, crop in enumerate(crops):
                _write_png(f'{stem}_{i}.png', crop.img)
            written += len(crops)
            continue
        if len(crops) > 1:
            problem(name, path,
                    f'several faces: {len(crops)} found, kept the largest')
        areas = [_box_area(box) for box in found['boxes']]
        _write_png(first, crops[int(np.argmax(areas))].img)
        written += 1
    with open(report, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(REPORT_HEADER)
        writer.writerows(
            (str(Path(path)), name, what) for path, what, name in problems)
    return CropSummary(
        len(jobs), written, done, [(path, what) for path, what, _ in problems],
        report)
