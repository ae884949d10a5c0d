"""SynthFER: drawn faces with expression cues, a data set that needs no
download, written in RAF-DB layout and exported to FERPlus and AffectNet
layouts."""
from .generate import (EXPRESSION_CUES, draw_face, export_synthfer,
                       generate_synthfer)

__all__ = [
    'EXPRESSION_CUES', 'draw_face', 'generate_synthfer', 'export_synthfer'
]
