"""FERPlus: FER2013's images with the votes of ten new annotators.

The label modes are those of Microsoft's FERPlus code (``src/ferplus.py``,
``FERPlusReader._process_data`` and ``_process_target``, after Barsoum et
al., "Training Deep Networks for Facial Expression Recognition with
Crowd-Sourced Label Distribution", ICMI 2016), reimplemented here and
checked against a verbatim copy of those functions in the tests.
"""
import csv
import os.path as osp
import re
import sys
from collections import Counter
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

from dan_mm.utils.errors import ConfigError, DataError, DataNotFoundError
from .categories import FERPLUS_CATEGORIES, FERPLUS_VOTE_COLUMNS
from .fer2013 import FER2013, decode_pixels, read_fer_csv

# fer2013new.csv's vote columns in the file's order (lower case): the eight
# emotions, then unknown and NF (not a face).
CSV_VOTE_COLUMNS = ('neutral', 'happiness', 'surprise', 'sadness', 'anger',
                    'disgust', 'fear', 'contempt', 'unknown', 'nf')
NON_EMOTION_COLUMNS = CSV_VOTE_COLUMNS[8:]
# CSV_VOTE_COLUMNS index of each FERPLUS_CATEGORIES class.
_TO_CATEGORY_ORDER = [CSV_VOTE_COLUMNS.index(c) for c in FERPLUS_VOTE_COLUMNS]

LABEL_MODES = ('majority', 'plurality', 'probability', 'crossentropy',
               'multi_target')
# _process_target's epsilon for multi_target targets.
MULTI_TARGET_EPSILON = 0.001


def plurality_vote(votes: dict) -> int:
    """The ``'plurality'`` label of one row of votes, or -1 to drop the row.

    Not Microsoft's rule (see :func:`ferplus_distribution`): the emotion
    with strictly more votes than every other column, ``unknown`` and
    ``NF`` included, with every vote counted. A row is dropped when
    ``unknown`` or ``NF`` gets the most votes, when the most votes are
    shared by two or more columns, or when there are no votes.

    Args:
        votes (dict): Vote counts keyed by the lower-case columns of
            ``fer2013new.csv`` (the 8 emotions, ``unknown``, ``nf``).

    Returns:
        int: Index in ``FERPLUS_CATEGORIES``, or -1.
    """
    columns = FERPLUS_VOTE_COLUMNS + NON_EMOTION_COLUMNS
    counts = [votes[c] for c in columns]
    top = max(counts)
    if top <= 0 or counts.count(top) > 1:
        return -1
    winner = counts.index(top)
    return winner if winner < len(FERPLUS_VOTE_COLUMNS) else -1


def _process_data(emotion_raw: List[float], mode: str) -> Tuple[list, bool]:
    """Microsoft's ``FERPlusReader._process_data``, step by step.

    Args:
        emotion_raw (list[float]): The 10 vote counts in
            ``CSV_VOTE_COLUMNS`` order.
        mode (str): ``'majority'``, ``'probability'``, ``'crossentropy'`` or
            ``'multi_target'``.

    Returns:
        tuple[list[float], bool]: The normalised 10-way distribution, and
        whether the row was forced to "unknown" (no clear label).
    """
    size = len(emotion_raw)
    emotion_raw = list(emotion_raw)
    emotion_unknown = [0.0] * size
    emotion_unknown[-2] = 1.0
    # Outlier removal: an emotion with a single vote gets none.
    for i in range(size):
        if emotion_raw[i] < 1.0 + sys.float_info.epsilon:
            emotion_raw[i] = 0.0
    sum_list = sum(emotion_raw)
    emotion = [0.0] * size
    forced = False
    if mode == 'majority':
        # More than half of the (remaining) votes.
        maxval = max(emotion_raw)
        if maxval > 0.5 * sum_list:
            emotion[int(np.argmax(emotion_raw))] = maxval
        else:
            emotion, forced = emotion_unknown, True
    elif mode in ('probability', 'crossentropy'):
        # The top emotions (ties taken together) until they hold 75% of the
        # votes, at most 3; unknown / NF among them end the search.
        sum_part, count, valid_emotion = 0, 0, True
        while sum_part < 0.75 * sum_list and count < 3 and valid_emotion:
            maxval = max(emotion_raw)
            for i in range(size):
                if emotion_raw[i] == maxval:
                    emotion[i] = maxval
                    emotion_raw[i] = 0
                    sum_part += emotion[i]
                    count += 1
                    if i >= 8:
                        valid_emotion = False
                        if sum(emotion) > maxval:
                            emotion[i] = 0
                            count -= 1
                        break
        if sum(emotion) <= 0.5 * sum_list or count > 3:
            emotion, forced = emotion_unknown, True
    elif mode == 'multi_target':
        # Every emotion with at least 30% of the votes.
        threshold = 0.3
        for i in range(size):
            if emotion_raw[i] >= threshold * sum_list:
                emotion[i] = emotion_raw[i]
        if sum(emotion) <= 0.5 * sum_list:
            emotion, forced = emotion_unknown, True
    else:
        raise ConfigError(f'FERPlus label_mode must be one of {LABEL_MODES}, '
                          f'got "{mode}"')
    total = sum(emotion)
    return [float(i) / total for i in emotion], forced


def ferplus_distribution(
        votes: Sequence[float],
        mode: str = 'majority') -> Tuple[Optional[np.ndarray], str]:
    """The label distribution Microsoft's FERPlus code gives one row.

    ``_process_data`` (above) followed by ``load_folders``' rule: a row whose
    largest entry is ``unknown`` or ``NF`` (including rows forced to
    unknown) is dropped; otherwise the two are removed and the 8 emotions
    renormalised. In ``'majority'`` mode the result is one-hot.

    Args:
        votes (Sequence[float]): The 10 vote counts in ``CSV_VOTE_COLUMNS``
            order (``fer2013new.csv``'s).
        mode (str): One of ``LABEL_MODES`` except ``'plurality'``.

    Returns:
        tuple: ``(distribution, reason)``: an 8-way float64 distribution in
        ``FERPLUS_CATEGORIES`` order, or None with the reason for dropping
        the row (``'no clear label'``, ``'unknown wins'``, ``'nf wins'``).
    """
    emotion, forced = _process_data([float(v) for v in votes], mode)
    top = int(np.argmax(emotion))
    if forced:
        return None, 'no clear label'
    if top >= 8:
        return None, f'{CSV_VOTE_COLUMNS[top]} wins'
    kept = np.asarray(emotion[:8], dtype=np.float64)
    kept = kept / kept.sum()
    return kept[_TO_CATEGORY_ORDER], ''


@DATASETS.register_module()
class FERPlus(FER2013):
    """FERPlus labels from ten votes, on FER2013's in-memory images.

    ``fer2013new.csv`` (Microsoft's FERPlus release) has one row per row of
    ``fer2013.csv``, in the same order, with the columns ``Usage``,
    ``Image name``, ``neutral``, ``happiness``, ``surprise``, ``sadness``,
    ``anger``, ``disgust``, ``fear``, ``contempt``, ``unknown``, ``NF``::

        data_root/fer2013.csv      # pixels
        data_root/fer2013new.csv   # votes

    Classes follow FER2013's order with Contempt added: 0 Angry, 1 Disgust,
    2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral, 7 Contempt (the vote
    columns are matched by name, not position). Rows with no image name are
    dropped, as Microsoft's ``generate_training_data.py`` does.

    ``ann_file`` may instead be one of the per-split vote files Microsoft's
    training code reads, ``FER2013{Train,Valid,Test}/label.csv`` (no
    header; ``fer<row>.png,"(x, y, w, h)",<10 counts>``, ``<row>`` indexing
    ``fer2013.csv``). Their votes differ from ``fer2013new.csv`` on about
    1,600 rows; with ``'majority'`` they give the split sizes FERPlus papers
    report (25,045 / 3,191 / 3,137), ``fer2013new.csv`` gives 25,060 /
    3,199 / 3,153.

    ``label_mode`` picks how votes become a target (Microsoft's modes first;
    each drops the rows its rule cannot label, and the counts are logged):

    - ``'majority'`` (default; what FERPlus papers report): single votes are
      discarded as outliers, then the emotion with more than half of the
      remaining votes is the label; rows without one, or where ``unknown`` /
      ``NF`` win, are dropped. Microsoft's code tests in this mode whatever
      the training mode: keep val/test at the default.
    - ``'crossentropy'``: after outlier removal, the top emotions until they
      hold 75% of the votes (at most 3) as a distribution, the target in
      ``gt_score`` (train with ``CrossEntropyLoss(use_soft=True)``).
    - ``'probability'``: the same distribution; each time a sample is drawn
      its label is sampled from it (a hard ``gt_label``).
    - ``'multi_target'``: emotions with at least 30% of the votes are all
      right: ``gt_score`` holds 1 for each (0.001 smoothing, as Microsoft's
      code), trained with :class:`~dan_mm.models.losses.MultiTargetLoss`.
    - ``'plurality'``: not Microsoft's; the strict plurality over all ten
      columns with every vote counted (what dan_mm used before), dropping
      ties and rows where ``unknown`` / ``NF`` win.

    In every mode ``gt_label`` is the most likely class (the first of equal
    ones), which metrics, the class-balanced sampler and the affinity loss
    use.

    Args:
        data_root (str): Folder of the two CSVs.
        split (str): ``'train'`` (Training), ``'val'`` (PublicTest) or
            ``'test'`` (PrivateTest). Defaults to ``'train'``.
        ann_file (str): The vote file, relative to ``data_root``:
            ``fer2013new.csv`` or a split's ``label.csv``.
            Defaults to ``'fer2013new.csv'``.
        pixel_file (str): FER2013's CSV, relative to ``data_root``.
            Defaults to ``'fer2013.csv'``.
        label_mode (str): One of ``LABEL_MODES``. Defaults to
            ``'majority'``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    METAINFO = {'classes': FERPLUS_CATEGORIES}

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = 'fer2013new.csv',
                 pixel_file: str = 'fer2013.csv',
                 label_mode: str = 'majority',
                 **kwargs):
        if label_mode not in LABEL_MODES:
            raise ConfigError(f'FERPlus label_mode must be one of '
                              f'{LABEL_MODES}, got "{label_mode}"')
        self.pixel_file = pixel_file
        self.label_mode = label_mode
        super().__init__(
            data_root=data_root, split=split, ann_file=ann_file, **kwargs)

    def _row_target(self, counts: dict) -> Tuple[Optional[dict], str]:
        """The target fields of one row of votes, or None and a reason."""
        if self.label_mode == 'plurality':
            label = plurality_vote(counts)
            if label >= 0:
                return dict(gt_label=label), ''
            top = max(counts.values())
            winners = [c for c in CSV_VOTE_COLUMNS if counts[c] == top]
            return None, ('no votes' if top == 0 else
                          'tie' if len(winners) > 1 else f'{winners[0]} wins')
        dist, reason = ferplus_distribution(
            [counts[c] for c in CSV_VOTE_COLUMNS], self.label_mode)
        if dist is None:
            return None, reason
        target = dict(gt_label=int(np.argmax(dist)))
        if self.label_mode == 'crossentropy':
            target['gt_score'] = dist.astype(np.float32)
        elif self.label_mode == 'probability':
            target['label_distribution'] = dist
        elif self.label_mode == 'multi_target':
            hits = (dist > 0).astype(np.float32)
            target['gt_score'] = ((1 - MULTI_TARGET_EPSILON) * hits +
                                  MULTI_TARGET_EPSILON).astype(np.float32)
        return target, ''

    def load_data_list(self) -> List[dict]:
        """Join the votes with the pixels, keep the rows the mode labels."""
        self._check_root()
        pixel_file = self._join_prefix_path(self.pixel_file)
        pixels = read_fer_csv(pixel_file, ('pixels', 'usage'))
        usage = self.USAGES[self.split]
        if not osp.isfile(self.ann_file):
            raise DataNotFoundError(
                f'FERPlus vote file not found: {self.ann_file}')
        rows = (self._label_csv_rows if _is_label_csv(self.ann_file) else
                self._fer2013new_rows)(pixels, pixel_file, usage)
        dropped, data_list = Counter(), []
        for where, counts, pixel_row in rows:
            if counts is None:
                dropped['no image name'] += 1
                continue
            target, reason = self._row_target(counts)
            if target is None:
                dropped[reason] += 1
                continue
            data_list.append(
                dict(
                    img=decode_pixels(pixel_row['pixels'],
                                      f'{pixel_file}:{pixel_row["_line"]}'),
                    **target))
        self.dropped = dict(dropped)
        if dropped:
            MMLogger.get_current_instance().info(
                f'FERPlus {self.split} ({self.label_mode}): dropped '
                f'{sum(dropped.values())} rows (' +
                ', '.join(f'{k}: {v}'
                          for k, v in sorted(dropped.items())) + ')')
        if not data_list:
            raise DataError(f'{self.ann_file}: no usable rows with Usage '
                            f'"{usage}" (label_mode={self.label_mode}, '
                            f'dropped: {dict(dropped)})')
        return data_list

    def prepare_data(self, idx: int):
        """The pipeline's output for ``idx``; in ``'probability'`` mode the
        label is first drawn from the row's distribution, anew each time
        (with ``np.random``, which mmengine seeds per worker). Test mode
        keeps the most likely class. ``get_gt_labels()`` always gives the
        most likely classes."""
        info = self.get_data_info(idx)
        dist = info.pop('label_distribution', None)
        if dist is not None and not self.test_mode:
            info['gt_label'] = int(np.random.choice(len(dist), p=dist))
        return self.pipeline(info)

    def _fer2013new_rows(self, pixels: List[dict], pixel_file: str,
                         usage: str) -> Iterator[tuple]:
        """``(where, counts, pixel row)`` of ``fer2013new.csv``'s rows of
        ``usage``; counts are None for rows without an image name."""
        votes = read_fer_csv(self.ann_file,
                             ('usage', 'image name') + CSV_VOTE_COLUMNS)
        if len(votes) != len(pixels):
            raise DataError(
                f'{self.ann_file} has {len(votes)} rows but {pixel_file} has '
                f'{len(pixels)}: FERPlus votes must align row by row with '
                'fer2013.csv')
        for vote_row, pixel_row in zip(votes, pixels):
            where = f'{self.ann_file}:{vote_row["_line"]}'
            if vote_row['usage'] != pixel_row['usage']:
                raise DataError(
                    f'{where}: Usage "{vote_row["usage"]}" differs from '
                    f'"{pixel_row["usage"]}" on {pixel_file}:'
                    f'{pixel_row["_line"]}: the files are not aligned')
            if vote_row['usage'] != usage:
                continue
            counts = _parse_counts([vote_row[c] for c in CSV_VOTE_COLUMNS],
                                   where) if vote_row['image name'] else None
            yield where, counts, pixel_row

    def _label_csv_rows(self, pixels: List[dict], pixel_file: str,
                        usage: str) -> Iterator[tuple]:
        """``(where, counts, pixel row)`` of Microsoft's per-split
        ``label.csv``: ``fer<row>.png,"(x, y, w, h)",<10 counts>`` with no
        header, ``<row>`` indexing fer2013.csv's data rows."""
        with open(self.ann_file, newline='', encoding='utf-8') as f:
            rows = list(csv.reader(f))
        for lineno, row in enumerate(rows, start=1):
            if not row or not ''.join(row).strip():
                continue
            where = f'{self.ann_file}:{lineno}'
            if len(row) != 2 + len(CSV_VOTE_COLUMNS):
                raise DataError(
                    f'{where}: expected "<image name>,<face box>,<10 vote '
                    f'counts>" (Microsoft\'s label.csv), got {len(row)} '
                    'columns')
            match = re.fullmatch(r'fer(\d+)\.png', row[0].strip())
            if match is None:
                raise DataError(f'{where}: image name "{row[0]}" is not '
                                'fer<row of fer2013.csv>.png')
            index = int(match.group(1))
            if index >= len(pixels):
                raise DataError(f'{where}: {row[0]} names row {index} but '
                                f'{pixel_file} has {len(pixels)} rows')
            pixel_row = pixels[index]
            if pixel_row['usage'] != usage:
                raise DataError(
                    f'{where}: {row[0]} is a {pixel_row["usage"]} image in '
                    f'{pixel_file} but split="{self.split}" reads {usage}; '
                    'point each split at its own label.csv (FER2013Train/, '
                    'FER2013Valid/, FER2013Test/)')
            yield where, _parse_counts(row[2:], where), pixel_row

    def _join_prefix_path(self, path: str) -> str:
        return path if osp.isabs(path) else osp.join(self.data_root, path)


def _parse_counts(values: List[str], where: str) -> dict:
    """Vote counts keyed by ``CSV_VOTE_COLUMNS``; DataError if not ints."""
    counts = {}
    for column, value in zip(CSV_VOTE_COLUMNS, values):
        value = value.strip()
        if not value.isdigit():
            raise DataError(f'{where}: vote count {column}="{value}" is not '
                            'a non-negative integer')
        counts[column] = int(value)
    return counts


def _is_label_csv(path: str) -> bool:
    """Whether ``path`` is a headerless ``label.csv`` (first cell
    ``fer<row>.png``) rather than ``fer2013new.csv``."""
    with open(path, newline='', encoding='utf-8', errors='replace') as f:
        first = next(csv.reader(f), [])
    return bool(first) and re.fullmatch(r'fer\d+\.png',
                                        first[0].strip()) is not None
