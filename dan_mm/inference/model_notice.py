"""Say what a model knows: a notice for models not trained on real faces.

A model trained on SynthFER (the drawn faces of
:mod:`dan_mm.synthfer`) gives labels on real photos that mean
nothing: drawn faces are its whole world. The inferencer, ``tools/infer.py``
and the web demo show :func:`model_notice` next to their results.

The signal is the config key ``training_data`` of the config the checkpoint
was trained with (its ``meta['cfg']``, see
:mod:`dan_mm.utils.checkpoint_config`), else of the config given, set by
``configs/dan_r18_synthfer.py`` (and so by every config that inherits it)::

    training_data = dict(name='SynthFER', real_faces=False)

A config without that key counts as SynthFER when its training set's
``data_root`` or dataset ``type`` contains ``synthfer`` (any case), so that
a copied and edited SynthFER config is still recognised. A config for
other drawn or synthetic faces can set ``real_faces=False`` with its own
``name`` and, optionally, its own ``notice`` text.
"""
import warnings
from typing import Optional

from mmengine.config import Config

REAL_FACE_MODEL_HINT = (
    'for real faces, run the DAN authors\' released model by name '
    '(python tools/infer.py dan_r18_3rdparty_rafdb photo.jpg, downloaded '
    'once; README "Real expressions in one command") or train on RAF-DB '
    '(configs/dan_r18_rafdb.py)')


class ModelDomainWarning(UserWarning):
    """The model was not trained on real faces (see :func:`model_notice`)."""


def training_data(cfg: Config) -> dict:
    """What the model was trained on, as far as its config says.

    Args:
        cfg (Config): The model's config.

    Returns:
        dict: ``name`` (str or None) and ``real_faces`` (bool or None:
        unknown), plus any other keys of the config's ``training_data``.
    """
    declared = cfg.get('training_data')
    if declared is not None:
        return dict(dict(name=None, real_faces=None), **declared)
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    words = f'{dataset.get("type", "")} {dataset.get("data_root", "")}'
    if 'synthfer' in words.lower():
        return dict(name='SynthFER', real_faces=False)
    return dict(name=None, real_faces=None)


def model_notice(cfg: Config) -> Optional[str]:
    """The notice to show next to results, or None for a real-face model.

    Args:
        cfg (Config): The model's config.

    Returns:
        str | None: One sentence: the model was trained on drawn faces, its
        labels on real photos are not meaningful, and how to get a model
        that knows real faces.
    """
    data = training_data(cfg)
    if data.get('real_faces') is not False:
        return None
    if data.get('notice'):
        return str(data['notice'])
    name = data.get('name') or 'synthetic faces'
    drawn = 'drawn ' if name == 'SynthFER' else ''
    return (f'this model was trained on {drawn}{name} faces, not photos: '
            'its labels on real photos are not meaningful; '
            f'{REAL_FACE_MODEL_HINT}')


def warn_model_notice(notice: Optional[str]) -> None:
    """Issue ``notice`` as a :class:`ModelDomainWarning` (if there is one)."""
    if notice:
        warnings.warn(notice, ModelDomainWarning, stacklevel=3)
