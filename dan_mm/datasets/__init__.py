from .categories import RAFDB_CATEGORIES
from .rafdb import RAFDB
from .samplers import ClassBalancedSampler
from .synthfer import EXPRESSION_CUES, draw_face, generate_synthfer
from .transforms import LoadFaceImage, UnreadableImageError

__all__ = [
    'RAFDB', 'RAFDB_CATEGORIES', 'ClassBalancedSampler', 'EXPRESSION_CUES', 'draw_face',
    'generate_synthfer', 'LoadFaceImage', 'UnreadableImageError'
]
