from .affectnet import AffectNet
from .categories import RAFDB_CATEGORIES
from .class_folders import class_folders, stratified_split, write_split
from .fer2013 import FER2013
from .ferplus import FERPlus
from .rafdb import RAFDB
from .samplers import ClassBalancedSampler
from .transforms import LoadFaceImage

__all__ = [
    'RAFDB', 'AffectNet', 'FER2013', 'FERPlus', 'RAFDB_CATEGORIES',
    'ClassBalancedSampler', 'LoadFaceImage', 'class_folders',
    'stratified_split', 'write_split'
]
