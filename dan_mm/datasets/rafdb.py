"""RAF-DB (basic expressions) in the layout the DAN reference reads."""
import os.path as osp
from typing import List

from mmengine.logging import MMLogger
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from dan_mm.utils.errors import ConfigError, DataError, DataNotFoundError
from .categories import RAFDB_CATEGORIES
from .utils import check_data_root


@DATASETS.register_module()
class RAFDB(BaseDataset):
    """RAF-DB basic expression data set.

    The on-disk layout (the label file name really is spelled "patition")::

        data_root/
        ├── EmoLabel/list_patition_label.txt   # "train_00001.jpg 5" per line
        └── Image/aligned/train_00001_aligned.jpg

    File labels 1..7 (Surprise, Fear, Disgust, Happiness, Sadness, Anger,
    Neutral) become 0..6. ``split`` selects the lines whose image name starts
    with ``train`` or ``test``, as the reference does.

    Args:
        data_root (str): Root of the data set.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        ann_file (str): Label file, relative to ``data_root``.
            Defaults to ``'EmoLabel/list_patition_label.txt'``.
        data_prefix (str): Image folder, relative to ``data_root``.
            Defaults to ``'Image/aligned'``.
        skip_missing (bool): Skip listed images that are missing on disk,
            logging how many, instead of stopping. Defaults to False.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    METAINFO = {'classes': RAFDB_CATEGORIES}
    SPLITS = ('train', 'test')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = 'EmoLabel/list_patition_label.txt',
                 data_prefix: str = 'Image/aligned',
                 skip_missing: bool = False,
                 **kwargs):
        if split not in self.SPLITS:
            raise ConfigError(
                f'RAFDB split must be one of {self.SPLITS}, got "{split}"')
        self.split = split
        self.skip_missing = skip_missing
        kwargs.setdefault('test_mode', split == 'test')
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse the label file into ``{'img_path', 'gt_label'}`` dicts."""
        check_data_root('RAFDB', self.data_root)
        if not osp.isfile(self.ann_file):
            raise DataNotFoundError(
                f'RAF-DB label file not found: {self.ann_file} (expected '
                'EmoLabel/list_patition_label.txt under data_root; is '
                f'data_root={self.data_root!r} right?)')
        num_classes = len(RAFDB_CATEGORIES)
        data_list, seen, missing = [], {}, []
        try:
            with open(self.ann_file, encoding='utf-8') as f:
                lines = f.readlines()
        except UnicodeDecodeError as err:
            raise DataError(
                f'{self.ann_file}: not a UTF-8 text label file ({err.reason} '
                f'at byte {err.start})') from None
        for lineno, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f'{self.ann_file}:{lineno}'
            if len(fields) != 2 or not fields[1].lstrip('-').isdigit():
                raise DataError(f'{where}: expected "<image name> <label 1-'
                                f'{num_classes}>", got "{line.strip()}"')
            name, label = fields[0], int(fields[1])
            if not 1 <= label <= num_classes:
                raise DataError(
                    f'{where}: label {label} of {name} is outside 1..'
                    f'{num_classes}')
            if name in seen:
                raise DataError(f'{where}: {name} is listed again '
                                f'(first on line {seen[name]})')
            seen[name] = lineno
            if not name.startswith(self.split):
                continue
            img_path = osp.join(self.img_prefix,
                                osp.splitext(name)[0] + '_aligned.jpg')
            if not osp.isfile(img_path):
                if not self.skip_missing:
                    raise DataNotFoundError(
                        f'{where}: image {img_path} listed for {name} '
                        'does not exist (pass skip_missing=True to skip)')
                missing.append(img_path)
                continue
            data_list.append(dict(img_path=img_path, gt_label=label - 1))
        if missing:
            MMLogger.get_current_instance().warning(
                f'RAFDB: skipped {len(missing)} missing images listed in '
                f'{self.ann_file} (first: {missing[0]})')
        if not data_list:
            raise DataError(
                f'{self.ann_file}: no usable "{self.split}_*" entries' +
                (f' ({len(missing)} listed images are missing)'
                 if missing else ''))
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Split: \t{self.split}', f'Root: \t{self.data_root}']
