"""SynthFER: procedurally drawn expression faces, the built-in default data
of dan_mm, so that the main job runs with no download. It is a miniature of
the real problem, not a toy (see :mod:`.draw`).

- :func:`draw_face` (:mod:`.draw`): one face showing an expression, from
  its :data:`EXPRESSION_CUES`;
- :func:`generate_synthfer` (:mod:`.write`): a data set in RAF-DB's layout;
- :func:`export_synthfer` (:mod:`.export`): a split of it in FERPlus's or
  AffectNet's layout, for trying cross-dataset evaluation.
"""
from .draw import EXPRESSION_CUES, draw_face
from .export import export_synthfer
from .write import generate_synthfer

__all__ = [
    'EXPRESSION_CUES', 'draw_face', 'generate_synthfer', 'export_synthfer'
]
