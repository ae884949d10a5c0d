from .loading import LoadFaceImage, UnreadableImageError

__all__ = ['LoadFaceImage', 'UnreadableImageError']
