from .checkpoint import load_from_local, register_checkpoint_loader
from .errors import (CheckpointError, CheckpointMismatchError, ConfigError,
                     DataError, InputError, InputNotFoundError,
                     NoFaceFoundError, NumClassesMismatchError,
                     PretrainedNotFoundError, UnreadableImageError,
                     UnsafeCheckpointError, UserError)

__all__ = [
    'load_from_local', 'register_checkpoint_loader', 'UserError',
    'ConfigError', 'NumClassesMismatchError', 'DataError',
    'UnreadableImageError', 'InputError', 'InputNotFoundError',
    'NoFaceFoundError', 'CheckpointError', 'CheckpointMismatchError',
    'UnsafeCheckpointError', 'PretrainedNotFoundError'
]
