from .checkpoint import load_from_local, register_checkpoint_loader
from .errors import (CheckpointError, CheckpointMismatchError, ConfigError,
                     DataError, InputError, MissingDependencyError,
                     NumClassesMismatchError, PretrainedNotFoundError,
                     UnreadableImageError, UnsafeCheckpointError, UserError)

__all__ = [
    'load_from_local', 'register_checkpoint_loader', 'UserError',
    'ConfigError', 'NumClassesMismatchError', 'DataError',
    'UnreadableImageError', 'InputError', 'CheckpointError',
    'CheckpointMismatchError', 'UnsafeCheckpointError',
    'PretrainedNotFoundError', 'MissingDependencyError'
]
