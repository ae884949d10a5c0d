"""Errors that the tools turn into one clear line instead of a traceback."""


class CheckpointMismatchError(ValueError):
    """A checkpoint was saved for another model: another num_classes,
    num_heads or form (deploy vs training) than the config builds."""
