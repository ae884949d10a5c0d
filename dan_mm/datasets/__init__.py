from .categories import RAFDB_CATEGORIES
from .rafdb import RAFDB
from .synthfer import EXPRESSION_CUES, draw_face, generate_synthfer

__all__ = [
    'RAFDB', 'RAFDB_CATEGORIES', 'EXPRESSION_CUES', 'draw_face',
    'generate_synthfer'
]
