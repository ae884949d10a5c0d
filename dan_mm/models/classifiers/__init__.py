from .dan import DAN

__all__ = ['DAN']
