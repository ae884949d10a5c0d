from .checkpoint import load_from_local, register_checkpoint_loader
from .errors import (CheckpointError, CheckpointMismatchError,
                     CheckpointNotFoundError, ConfigError, DataError,
                     DataNotFoundError, InputError, InputNotFoundError,
                     NumClassesMismatchError, PretrainedNotFoundError,
                     UnreadableImageError, UnsafeCheckpointError, UserError)

__all__ = [
    'load_from_local', 'register_checkpoint_loader', 'UserError',
    'ConfigError', 'NumClassesMismatchError', 'DataError', 'DataNotFoundError',
    'UnreadableImageError', 'InputError', 'InputNotFoundError',
    'CheckpointError', 'CheckpointNotFoundError', 'CheckpointMismatchError',
    'UnsafeCheckpointError', 'PretrainedNotFoundError'
]
