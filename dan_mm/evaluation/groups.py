"""Who the model fails: accuracy and calibration per group of people.

Groups come from RAF-DB's manual annotation files or from a CSV:

- RAF-DB (``basic/Annotation/manual/<image>_manu_attri.txt``, one file per
  image, e.g. ``test_0001_manu_attri.txt``): five lines of landmark
  coordinates ``x y`` (eye centres, nose tip, mouth corners), then one
  integer a line: gender (0 male, 1 female, 2 unsure), race (0 Caucasian,
  1 African-American, 2 Asian) and age range (0 0-3, 1 4-19, 2 20-39,
  3 40-69, 4 70+), as the data set's readme describes them. SynthFER
  writes its own attributes in this layout (:mod:`dan_mm.synthfer`), with
  its own names for the codes (:data:`SYNTHFER_GROUPS`).
- Any other data set: a CSV with the header ``image,group_name,group_value``
  and one row per image and attribute; ``image`` is the image file's name
  (or its path relative to the data root).

:func:`group_report` gives per group the count, top-1 with a 95% Wilson
interval, balanced accuracy and ECE, and per attribute the largest top-1 gap
between two groups; groups of fewer than :data:`MIN_GROUP_SIZE` faces are
reported but flagged, and left out of the gap.
"""
import csv
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..utils.errors import DataError, DataNotFoundError
from .calibration import expected_calibration_error

MIN_GROUP_SIZE = 30

RAFDB_GROUPS: Dict[str, Dict[int, str]] = {
    'gender': {
        0: 'male',
        1: 'female',
        2: 'unsure'
    },
    'race': {
        0: 'Caucasian',
        1: 'African-American',
        2: 'Asian'
    },
    'age': {
        0: '0-3',
        1: '4-19',
        2: '20-39',
        3: '40-69',
        4: '70+'
    },
}

# SynthFER's own attributes in RAF-DB's three lines: drawn faces have no
# gender, the race line holds the drawn skin tone, the age line the drawn
# apparent age (dan_mm/synthfer/draw.py).
SYNTHFER_GROUPS: Dict[str, Dict[int, str]] = {
    'gender': {
        2: 'none drawn'
    },
    'skin tone': {
        0: 'light',
        1: 'medium',
        2: 'dark'
    },
    'apparent age': {
        2: 'young',
        3: 'older'
    },
}

ANNOTATION_SUFFIX = '_manu_attri.txt'


def image_key(img_path: str) -> str:
    """RAF-DB's name of an image: ``.../test_0001_aligned.jpg`` ->
    ``test_0001`` (the annotation file's prefix)."""
    stem = osp.splitext(osp.basename(img_path))[0]
    return re.sub(r'_aligned$', '', stem)


def read_rafdb_attributes(
        ann_dir: str,
        keys: Sequence[str],
        names: Optional[Dict[str, Dict[int, str]]] = None) -> List[dict]:
    """Read the attributes of the images ``keys`` from RAF-DB's files.

    Args:
        ann_dir (str): The ``Annotation/manual`` folder.
        keys (Sequence[str]): Image names (:func:`image_key`).
        names (dict, optional): Attribute -> code -> group name, in the
            files' line order. Defaults to :data:`RAFDB_GROUPS`.

    Returns:
        list[dict]: Per image ``{attribute: group name}``.

    Raises:
        DataNotFoundError: The folder or an image's file is missing.
        DataError: A file that does not have RAF-DB's layout; the message
            names the file and line.
    """
    names = names or RAFDB_GROUPS
    if not osp.isdir(ann_dir):
        raise DataNotFoundError(
            f'annotation folder not found: {ann_dir} (RAF-DB keeps it in '
            'basic/Annotation/manual; unzip manual.zip there)')
    rows = []
    for key in keys:
        path = osp.join(ann_dir, key + ANNOTATION_SUFFIX)
        if not osp.isfile(path):
            raise DataNotFoundError(
                f'{path}: annotation file of image {key} not found')
        rows.append(_parse_manu_attri(path, names))
    return rows


def _parse_manu_attri(path: str, names: Dict[str, Dict[int, str]]) -> dict:
    try:
        with open(path, encoding='utf-8') as f:
            lines = [line.strip() for line in f]
    except UnicodeDecodeError as err:
        raise DataError(f'{path}: not a text file ({err.reason})') from err
    while lines and not lines[-1]:
        lines.pop()
    expected = 5 + len(names)
    if len(lines) != expected:
        raise DataError(
            f'{path}: {len(lines)} lines, RAF-DB\'s layout has {expected} '
            '(5 landmark lines "x y", then gender, race and age, one '
            'integer each)')
    for lineno, line in enumerate(lines[:5], 1):
        fields = line.split()
        try:
            ok = len(fields) == 2 and all(
                np.isfinite(float(v)) for v in fields)
        except ValueError:
            ok = False
        if not ok:
            raise DataError(f'{path}:{lineno}: "{line[:40]}" is not a '
                            'landmark "x y"')
    groups = {}
    for lineno, (attr, codes) in enumerate(names.items(), 6):
        line = lines[lineno - 1]
        if not re.fullmatch(r'\d+', line) or int(line) not in codes:
            raise DataError(
                f'{path}:{lineno}: {attr} "{line[:40]}" is not one of '
                f'{", ".join(f"{c} ({n})" for c, n in codes.items())}')
        groups[attr] = codes[int(line)]
    return groups


def read_group_csv(path: str,
                   img_paths: Sequence[str],
                   data_root: Optional[str] = None) -> List[dict]:
    """Read ``image,group_name,group_value`` rows for the images.

    Args:
        path (str): The CSV file.
        img_paths (Sequence[str]): The evaluated images.
        data_root (str, optional): To match ``image`` as a relative path.

    Returns:
        list[dict]: Per image ``{group_name: group_value}`` (empty for an
        image the CSV does not list).

    Raises:
        DataNotFoundError: No such file.
        DataError: A wrong header or row; the message names the line.
    """
    if not osp.isfile(path):
        raise DataNotFoundError(f'group CSV not found: {path}')
    table: Dict[str, dict] = {}
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        if header != ['image', 'group_name', 'group_value']:
            raise DataError(f'{path}:1: header must be "image,group_name,'
                            f'group_value", got "{",".join(header)}"')
        for lineno, row in enumerate(reader, 2):
            if not row:
                continue
            if len(row) != 3 or not all(v.strip() for v in row):
                raise DataError(f'{path}:{lineno}: expected 3 non-empty '
                                f'fields image,group_name,group_value, got '
                                f'"{",".join(row)[:60]}"')
            image, name, value = (v.strip() for v in row)
            table.setdefault(image.replace('\\', '/'), {})[name] = value
    rows = []
    for img_path in img_paths:
        candidates = [osp.basename(img_path)]
        if data_root:
            candidates.append(
                osp.relpath(img_path, data_root).replace(osp.sep, '/'))
        found = next((table[c] for c in candidates if c in table), {})
        rows.append(found)
    return rows


def wilson_interval(hits: int, n: int) -> tuple:
    """95% Wilson score interval of ``hits / n`` (scipy's)."""
    from scipy.stats import binomtest
    if n == 0:
        return (float('nan'), float('nan'))
    ci = binomtest(hits, n).proportion_ci(0.95, method='wilson')
    return (float(ci.low), float(ci.high))


def group_report(probs,
                 labels,
                 groups: Sequence[dict],
                 min_size: int = MIN_GROUP_SIZE) -> dict:
    """Per-group accuracy and calibration.

    Args:
        probs (array): ``(N, num_classes)`` probabilities.
        labels (array): ``(N, )`` true classes.
        groups (Sequence[dict]): Per face ``{attribute: group}``.
        min_size (int): Smaller groups are flagged ``small`` and left out
            of the gap. Defaults to 30.

    Returns:
        dict: ``rows``: per attribute and group ``attribute``, ``group``,
        ``count``, ``top1``, ``top1_low``, ``top1_high`` (95% Wilson),
        ``balanced_accuracy``, ``ece`` (percent) and ``small``; ``gaps``:
        per attribute ``attribute``, ``gap`` (top-1 points), ``best``,
        ``worst`` (None with fewer than two groups of ``min_size``).
    """
    probs = np.asarray(probs, np.float64)
    labels = np.asarray(labels, np.int64)
    pred = probs.argmax(axis=1)
    attributes: List[str] = []
    for g in groups:
        attributes.extend(a for a in g if a not in attributes)
    rows, gaps = [], []
    for attr in attributes:
        values = np.array([g.get(attr) for g in groups], dtype=object)
        attr_rows = []
        for value in sorted({v for v in values if v is not None}, key=str):
            idx = np.flatnonzero(values == value)
            hits = int((pred[idx] == labels[idx]).sum())
            low, high = wilson_interval(hits, len(idx))
            recalls = [(pred[idx][labels[idx] == c] == c).mean()
                       for c in np.unique(labels[idx])]
            attr_rows.append(
                dict(
                    attribute=attr,
                    group=str(value),
                    count=len(idx),
                    top1=100 * hits / len(idx),
                    top1_low=100 * low,
                    top1_high=100 * high,
                    balanced_accuracy=100 * float(np.mean(recalls)),
                    ece=100 *
                    expected_calibration_error(probs[idx], labels[idx]),
                    small=len(idx) < min_size))
        rows.extend(attr_rows)
        big = [r for r in attr_rows if not r['small']]
        if len(big) >= 2:
            best = max(big, key=lambda r: r['top1'])
            worst = min(big, key=lambda r: r['top1'])
            gaps.append(
                dict(
                    attribute=attr,
                    gap=best['top1'] - worst['top1'],
                    best=best['group'],
                    worst=worst['group']))
        else:
            gaps.append(dict(attribute=attr, gap=None, best=None, worst=None))
    return dict(rows=rows, gaps=gaps, min_size=min_size)


def format_group_report(report: dict) -> str:
    """The report as a text table (what the log shows)."""
    lines = [
        f'{"attribute":<13} {"group":<17} {"count":>6} {"top-1":>6} '
        f'{"95% interval":>14} {"bal.acc":>7} {"ECE":>6}'
    ]
    for r in report['rows']:
        flag = f'  (fewer than {report["min_size"]})' if r['small'] else ''
        lines.append(f'{r["attribute"]:<13} {r["group"]:<17} '
                     f'{r["count"]:>6} {r["top1"]:>6.2f} '
                     f'{r["top1_low"]:>6.2f}-{r["top1_high"]:<6.2f} '
                     f'{r["balanced_accuracy"]:>7.2f} {r["ece"]:>6.2f}{flag}')
    for g in report['gaps']:
        if g['gap'] is None:
            lines.append(f'largest top-1 gap, {g["attribute"]}: none (it '
                         'needs two groups of at least '
                         f'{report["min_size"]} faces)')
        else:
            lines.append(f'largest top-1 gap, {g["attribute"]}: '
                         f'{g["gap"]:.2f} points ({g["best"]} vs '
                         f'{g["worst"]})')
    return '\n'.join(lines)


def save_group_plot(report: dict, path: str) -> str:
    """Top-1 per group with its 95% interval, one panel per attribute;
    flagged (small) groups hatched. Returns ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    attributes = list(dict.fromkeys(r['attribute'] for r in report['rows']))
    widths = [
        max(1, sum(r['attribute'] == a for r in report['rows']))
        for a in attributes
    ]
    fig, axes = plt.subplots(
        1,
        len(attributes),
        figsize=(1.2 * sum(widths) + 1.5, 3.6),
        squeeze=False,
        sharey=True,
        gridspec_kw=dict(width_ratios=widths))
    for ax, attr in zip(axes[0], attributes):
        rows = [r for r in report['rows'] if r['attribute'] == attr]
        x = np.arange(len(rows))
        top1 = np.array([r['top1'] for r in rows])
        err = np.array([[r['top1'] - r['top1_low'] for r in rows],
                        [r['top1_high'] - r['top1'] for r in rows]])
        bars = ax.bar(
            x, top1, color='#4477aa', yerr=err, capsize=3, ecolor='0.2')
        for bar, r in zip(bars, rows):
            if r['small']:
                bar.set(facecolor='#bbccdd', hatch='//', edgecolor='#4477aa')
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                2,
                f'n={r["count"]}',
                ha='center',
                va='bottom',
                fontsize=7,
                color='white' if not r['small'] else '0.2')
        ax.set_xticks(x, [r['group'] for r in rows], fontsize=8)
        gap = next(g for g in report['gaps'] if g['attribute'] == attr)
        if gap['gap'] is not None:
            note = f'gap {gap["gap"]:.1f} points'
        else:
            note = 'one group' if len(rows) == 1 else 'gap: n/a'
        ax.set_title(f'{attr} ({note})', fontsize=9)
        ax.set_ylim(0, 100)
    axes[0, 0].set_ylabel('top-1 (%), 95% interval')
    fig.text(
        0.01,
        -0.02,
        f'hatched: fewer than {report["min_size"]} faces (left out of the '
        'gap)',
        fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(fig)
    return path


def write_group_csv(report: dict, path: str) -> str:
    """The report's rows as CSV. Returns ``path``."""
    keys = [
        'attribute', 'group', 'count', 'top1', 'top1_low', 'top1_high',
        'balanced_accuracy', 'ece', 'small'
    ]
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, keys)
        writer.writeheader()
        for row in report['rows']:
            writer.writerow({
                k: round(v, 4) if isinstance(v, float) else v
                for k, v in row.items()
            })
    return path


def enable_group_report(cfg, groups: str = 'auto') -> str:
    """Make the config's test evaluator's :class:`FERMetric` report groups.

    Args:
        cfg (Config): The test config; changed in place.
        groups (str): A CSV of ``image,group_name,group_value`` rows, or
            ``'auto'``: a RAF-DB-layout data set's ``Annotation/manual``
            folder under its ``data_root``, with SynthFER's group names for
            a SynthFER model (the config's ``training_data.name``).

    Returns:
        str: The folder or file the groups come from.

    Raises:
        ConfigError: ``'auto'`` for a data set without RAF-DB's layout, or
            no FERMetric in ``test_evaluator``.
        DataNotFoundError: The annotation folder or CSV is missing.
    """
    from ..utils.errors import ConfigError
    dataset = cfg.test_dataloader.dataset
    names = 'rafdb'
    if groups == 'auto':
        if dataset.get('type') not in ('RAFDB', 'dan_mm.RAFDB'):
            raise ConfigError(
                f'groups: a {dataset.get("type")} data set has no attribute '
                'files; give a CSV of image,group_name,group_value rows')
        groups = osp.join(
            dataset.get('data_root') or '', 'Annotation', 'manual')
        if not osp.isdir(groups):
            raise DataNotFoundError(
                f'annotation folder not found: {groups} (RAF-DB: unzip '
                'basic/Annotation/manual.zip there; SynthFER: generate the '
                'data again, its generator writes it)')
        # a SynthFER model is tested on SynthFER: the generator's groups
        if (cfg.get('training_data') or {}).get('name') == 'SynthFER':
            names = 'synthfer'
    elif not osp.isfile(groups):
        raise DataNotFoundError(f'group CSV not found: {groups}')
    evaluators = cfg.test_evaluator
    evaluators = evaluators if isinstance(evaluators, list) else [evaluators]
    metrics = [e for e in evaluators if 'FERMetric' in str(e.get('type'))]
    if not metrics:
        raise ConfigError('groups: test_evaluator has no FERMetric')
    for metric in metrics:
        metric.update(groups=groups, group_names=names)
    return groups
