from .loading import LoadFaceImage
from .transform_lookup import get_transform_idx

__all__ = ['LoadFaceImage', 'get_transform_idx']
