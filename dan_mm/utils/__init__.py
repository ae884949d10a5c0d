from .checkpoint import (checkpoints_trusted, load_checkpoint_file,
                         load_from_http, load_from_local, trust_checkpoints)
from .device import check_device
from .errors import (CheckpointError, CheckpointMismatchError,
                     CheckpointNotFoundError, ConfigError, DataError,
                     DataNotFoundError, DeviceError, InputError,
                     InputNotFoundError, MissingExtraError, NoFaceFoundError,
                     NumClassesMismatchError, PretrainedNotFoundError,
                     UnreadableImageError, UnsafeCheckpointError, UserError)
from .image_io import DEFAULT_MAX_IMAGE_PIXELS, decode_image, max_image_pixels

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
