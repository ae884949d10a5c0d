from .loading import LoadFaceImage
from .transform_lookup import get_transform_idx, install

# mmpretrain's tools (verify_dataset) and inferencers find LoadFaceImage as
# the "LoadImageFromFile" it replaces: see transform_lookup.
install()

__all__ = ['LoadFaceImage', 'get_transform_idx']
