"""Does a checkpoint fit the config it is run with?

mmengine saves the training config's text in every checkpoint
(``meta['cfg']``) and the classes in ``meta['dataset_meta']``. A checkpoint
run with another config still loads when the shapes agree, and then gives
wrong results without a word: another input size or mean/std than the
model learnt, classes named in another order. :func:`check_checkpoint_config`
compares what changes results and refuses, in one line, where the results
would be wrong (``allow_mismatch`` / ``--allow-config-mismatch``
overrides; the tools spell it ``--allow-config-mismatch``); a different
face crop is one warning line.
"""
import ast
from typing import Any, List, NamedTuple, Optional

from mmengine.config import Config
from mmpretrain.registry import DATASETS

from .checkpoint import load_checkpoint_file
from .cli import report_logger
from .errors import CheckpointMismatchError


class Mismatch(NamedTuple):
    """One setting where config and checkpoint disagree.

    Attributes:
        what (str): The setting (``'input size'``).
        config (Any): The config's value.
        checkpoint (Any): The value the checkpoint was trained with.
        wrong (bool): True when results would be wrong (refused), False
            when only worse (warned).
    """
    what: str
    config: Any
    checkpoint: Any
    wrong: bool


def _literal(node: ast.AST) -> Any:
    """The value of a config expression made of literals and ``dict()``
    calls only; anything else raises ValueError (and is never run)."""
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id == 'dict'
                and not node.args and all(k.arg is not None
                                          for k in node.keywords)):
            raise ValueError('not a dict() call')
        return {k.arg: _literal(k.value) for k in node.keywords}
    if isinstance(node, ast.Dict):
        return {
            _literal(k): _literal(v)
            for k, v in zip(node.keys, node.values)
        }
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [_literal(e) for e in node.elts]
        return values if isinstance(node, ast.List) else tuple(values)
    return ast.literal_eval(node)


def training_config(meta: Optional[dict]) -> Optional[Config]:
    """The config a checkpoint was trained with, from its ``meta``.

    mmengine saves the config's text (``cfg.pretty_text``): assignments of
    literals and ``dict(...)``. It is read with :mod:`ast`, never run, so a
    checkpoint cannot run code through it; a value that is not such a
    literal is left out.

    Args:
        meta (dict, optional): The checkpoint's ``meta``.

    Returns:
        Config | None: None when the checkpoint does not hold one (the
        DAN authors' files, converted ones) or it cannot be parsed.
    """
    text = (meta or {}).get('cfg')
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:  # not a Python config: nothing to compare
        return None
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = _literal(node.value)
            except (ValueError, TypeError, SyntaxError):
                continue
    return Config(values) if values else None


def _input_size(cfg: Config) -> Optional[tuple]:
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    for transform in dataset.get('pipeline') or []:
        if transform.get('type') in ('Resize', 'ResizeEdge',
                                     'CenterCrop') and 'scale' in transform:
            scale = transform['scale']
            return (scale, scale) if isinstance(scale, int) else tuple(scale)
    return None


def _classes(cfg: Config, meta: Optional[dict] = None) -> Optional[tuple]:
    """The checkpoint's classes, else the config's test set's: its
    ``metainfo``, else its type's ``METAINFO`` (AffectNet-7: the first 7)."""
    classes = ((meta or {}).get('dataset_meta') or {}).get('classes')
    if classes:
        return tuple(classes)
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    classes = (dataset.get('metainfo') or {}).get('classes')
    if not classes and isinstance(dataset.get('type'), str):
        dataset_type = DATASETS.get(dataset['type'])
        classes = (getattr(dataset_type, 'METAINFO', None)
                   or {}).get('classes')
        num_classes = dataset.get('num_classes') or (
            (cfg.get('model') or {}).get('head') or {}).get('num_classes')
        if classes and isinstance(num_classes, int):
            classes = tuple(classes)[:num_classes]
    return tuple(classes) if classes else None


def _normalisation(cfg: Config) -> Optional[tuple]:
    pre = cfg.get('data_preprocessor') or (cfg.get('model') or
                                           {}).get('data_preprocessor') or {}
    if 'mean' not in pre and 'std' not in pre:
        return None
    return (tuple(pre.get('mean')
                  or ()), tuple(pre.get('std')
                                or ()), bool(pre.get('to_rgb', False)))


def _crop(cfg: Config) -> Optional[dict]:
    crop = cfg.get('face_crop')
    return dict(crop) if crop else None


def config_mismatches(cfg: Config,
                      meta: Optional[dict],
                      classes: Optional[tuple] = None) -> List[Mismatch]:
    """What changes results and differs between ``cfg`` and a checkpoint.

    Args:
        cfg (Config): The config the checkpoint is run with.
        meta (dict, optional): The checkpoint's ``meta``.
        classes (tuple, optional): The classes the model will report
            (defaults to the config's test set's ``metainfo.classes``).

    Returns:
        list[Mismatch]: Empty when they agree or the checkpoint holds no
        training config.
    """
    trained = training_config(meta)
    found = []
    checks = [('input size', _input_size, True),
              ('mean/std (data_preprocessor)', _normalisation, True),
              ('face crop (face_crop)', _crop, False)]
    if trained is not None:
        for what, read, wrong in checks:
            mine, theirs = read(cfg), read(trained)
            if mine is not None and theirs is not None and mine != theirs:
                found.append(Mismatch(what, mine, theirs, wrong))
    theirs = _classes(trained, meta) if trained is not None else _classes(
        Config(), meta)
    mine = tuple(classes) if classes else _classes(cfg)
    if mine and theirs and mine != theirs:
        found.append(Mismatch('classes', mine, theirs, True))
    return found


def _show(value: Any) -> str:
    if isinstance(value, dict):  # a face crop: its mode and size or margin
        if value.get('mode') == 'aligned':
            return f'aligned {value.get("size", "")}px'.replace(' px', '')
        return f'{value.get("mode", "box")} margin {value.get("margin")}'

    if isinstance(value, tuple) and len(value) == 2 and all(
            isinstance(v, int) for v in value):
        return f'{value[0]}x{value[1]}'
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return ' '.join(value)
    return str(value)


def check_checkpoint_config(
        cfg: Config,
        checkpoint: Optional[str],
        allow_mismatch: bool = False,
        config_name: Optional[str] = None,
        classes: Optional[tuple] = None) -> Optional[Config]:
    """Refuse a checkpoint trained with settings that make ``cfg`` wrong.

    Args:
        cfg (Config): The config the checkpoint is run with.
        checkpoint (str, optional): The local checkpoint file (None: no
            check).
        allow_mismatch (bool): Warn instead of refusing. Defaults to False.
        config_name (str, optional): The config's name, for messages.
        classes (tuple, optional): The classes the model will report, when
            given by the caller rather than by the config.

    Returns:
        Config | None: The config the checkpoint was trained with, when it
        holds one (what the model knows, for its notice).

    Raises:
        CheckpointMismatchError: Input size, mean/std or classes differ
            and ``allow_mismatch`` is False; one line naming each setting,
            both values and the override.
    """
    if not checkpoint:
        return None
    loaded = load_checkpoint_file(checkpoint, 'cpu', mmap=True)
    meta = loaded.get('meta') if isinstance(loaded, dict) else None
    found = config_mismatches(cfg, meta, classes)
    name = config_name or cfg.filename or 'the config'
    wrong = [m for m in found if m.wrong]
    parts = '; '.join(f'{m.what}: {_show(m.config)} in {name} but '
                      f'{_show(m.checkpoint)} in training'
                      for m in sorted(found, key=lambda m: not m.wrong))
    if wrong and not allow_mismatch:
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint} was trained with another config, so '
            f'its results here would be wrong ({parts}); use the config it '
            'was trained with, or pass allow_config_mismatch=True to run it '
            'anyway')
    if found:
        report_logger().warning(
            'checkpoint %s was trained with another config (%s)', checkpoint,
            '; '.join(f'{m.what}: {_show(m.config)} in {name} but '
                      f'{_show(m.checkpoint)} in training' for m in found))
    return training_config(meta)
