from .loading import LoadFaceImage

__all__ = ['LoadFaceImage']
