"""FERPlus: FER2013's images with the majority vote of ten new annotators."""
import os.path as osp
from collections import Counter
from typing import List

from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

from .categories import FERPLUS_CATEGORIES, FERPLUS_VOTE_COLUMNS
from .fer2013 import FER2013, decode_pixels, read_fer_csv

NON_EMOTION_COLUMNS = ('unknown', 'nf')


def majority_vote(votes: dict) -> int:
    """The FERPlus label of one row of votes, or -1 to drop the row.

    The rule: the label is the emotion with strictly more votes than every
    other column, ``unknown`` and ``NF`` (not a face) included. A row is
    dropped when ``unknown`` or ``NF`` gets the most votes, when the most
    votes are shared by two or more columns, or when there are no votes.

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


@DATASETS.register_module()
class FERPlus(FER2013):
    """FERPlus majority-vote labels on FER2013's in-memory images.

    ``fer2013new.csv`` (Microsoft's FERPlus release) has one row per row of
    ``fer2013.csv``, in the same order, with the columns ``Usage``,
    ``Image name``, ``neutral``, ``happiness``, ``surprise``, ``sadness``,
    ``anger``, ``disgust``, ``fear``, ``contempt``, ``unknown``, ``NF``::

        data_root/fer2013.csv      # pixels
        data_root/fer2013new.csv   # votes

    Classes follow FER2013's order with Contempt added: 0 Angry, 1 Disgust,
    2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral, 7 Contempt (the vote
    columns are matched by name, not position). The label is the unique
    most-voted column when it is an emotion; rows where ``unknown`` or
    ``NF`` win, where the top count is tied, with no votes, or with no
    image name are dropped, and the counts are logged
    (see :func:`majority_vote`).

    Args:
        data_root (str): Folder of the two CSVs.
        split (str): ``'train'`` (Training), ``'val'`` (PublicTest) or
            ``'test'`` (PrivateTest). Defaults to ``'train'``.
        ann_file (str): The vote file, relative to ``data_root``.
            Defaults to ``'fer2013new.csv'``.
        pixel_file (str): FER2013's CSV, relative to ``data_root``.
            Defaults to ``'fer2013.csv'``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    METAINFO = {'classes': FERPLUS_CATEGORIES}

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = 'fer2013new.csv',
                 pixel_file: str = 'fer2013.csv',
                 **kwargs):
        self.pixel_file = pixel_file
        super().__init__(
            data_root=data_root, split=split, ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Join the votes with the pixels row by row, keep voted rows."""
        pixel_file = self._join_prefix_path(self.pixel_file)
        pixels = read_fer_csv(pixel_file, ('pixels', 'usage'))
        vote_columns = FERPLUS_VOTE_COLUMNS + NON_EMOTION_COLUMNS
        votes = read_fer_csv(self.ann_file,
                             ('usage', 'image name') + vote_columns)
        if len(votes) != len(pixels):
            raise ValueError(
                f'{self.ann_file} has {len(votes)} rows but {pixel_file} has '
                f'{len(pixels)}: FERPlus votes must align row by row with '
                'fer2013.csv')
        usage = self.USAGES[self.split]
        dropped, data_list = Counter(), []
        for vote_row, pixel_row in zip(votes, pixels):
            where = f'{self.ann_file}:{vote_row["_line"]}'
            if vote_row['usage'] != pixel_row['usage']:
                raise ValueError(
                    f'{where}: Usage "{vote_row["usage"]}" differs from '
                    f'"{pixel_row["usage"]}" on {pixel_file}:'
                    f'{pixel_row["_line"]}: the files are not aligned')
            if vote_row['usage'] != usage:
                continue
            if not vote_row['image name']:
                dropped['no image name'] += 1
                continue
            counts = {}
            for column in vote_columns:
                value = vote_row[column]
                if not value.isdigit():
                    raise ValueError(f'{where}: vote count {column}="{value}"'
                                     ' is not a non-negative integer')
                counts[column] = int(value)
            label = majority_vote(counts)
            if label < 0:
                top = max(counts.values())
                winners = [c for c in vote_columns if counts[c] == top]
                reason = ('no votes' if top == 0 else
                          'tie' if len(winners) > 1 else f'{winners[0]} wins')
                dropped[reason] += 1
                continue
            data_list.append(
                dict(
                    img=decode_pixels(pixel_row['pixels'],
                                      f'{pixel_file}:{pixel_row["_line"]}'),
                    gt_label=label))
        self.dropped = dict(dropped)
        if dropped:
            MMLogger.get_current_instance().info(
                f'FERPlus {self.split}: dropped {sum(dropped.values())} rows ('
                + ', '.join(f'{k}: {v}'
                            for k, v in sorted(dropped.items())) + ')')
        if not data_list:
            raise ValueError(f'{self.ann_file}: no usable rows with Usage '
                             f'"{usage}" (dropped: {dict(dropped)})')
        return data_list

    def _join_prefix_path(self, path: str) -> str:
        return path if osp.isabs(path) else osp.join(self.data_root, path)
