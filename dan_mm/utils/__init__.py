from .checkpoint import load_from_local, register_checkpoint_loader
from .errors import CheckpointMismatchError

__all__ = [
    'load_from_local', 'register_checkpoint_loader', 'CheckpointMismatchError'
]
