# The errors are light; the rest imports torch, loaded on first use so that
# the tools' command line (dan_mm.utils.cli) starts without it.
import importlib

from .errors import (CheckpointError, CheckpointMismatchError,
                     CheckpointNotFoundError, ConfigError, DataError,
                     DataNotFoundError, DeviceError, InputError,
                     InputNotFoundError, MissingExtraError, NoFaceFoundError,
                     NumClassesMismatchError, PretrainedNotFoundError,
                     UnreadableImageError, UnsafeCheckpointError, UserError,
                     checkpoints_trusted, trust_checkpoints)

_LAZY = {
    'load_checkpoint_file': 'checkpoint',
    'load_from_local': 'checkpoint',
    'load_from_http': 'checkpoint',
    'check_device': 'device',
    'decode_image': 'image_io',
    'max_image_pixels': 'image_io',
    'DEFAULT_MAX_IMAGE_PIXELS': 'image_io',
}

__all__ = [
    'load_checkpoint_file', 'load_from_local', 'load_from_http',
    'trust_checkpoints', 'checkpoints_trusted', 'UserError', 'ConfigError',
    'NumClassesMismatchError', 'DataError', 'DataNotFoundError',
    'UnreadableImageError', 'InputError', 'InputNotFoundError',
    'NoFaceFoundError', 'CheckpointError', 'CheckpointNotFoundError',
    'CheckpointMismatchError', 'UnsafeCheckpointError',
    'PretrainedNotFoundError', 'MissingExtraError', 'DeviceError',
    'check_device', 'decode_image', 'max_image_pixels',
    'DEFAULT_MAX_IMAGE_PIXELS'
]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'.{_LAZY[name]}', __name__), name)
    globals()[name] = value
    return value
