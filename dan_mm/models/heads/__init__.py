from .afn import FusionClsHead

__all__ = ['FusionClsHead']
