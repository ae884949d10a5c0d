"""The folder results are written to, checked before any work is done."""
import errno
import os
import os.path as osp
import tempfile

from .errors import OutputDirError


def make_output_dir(path: str, param: str = 'out_dir') -> str:
    """Create ``path`` (and its parents) if needed and check that files can
    be written there.

    Called before the model loads, so that a wrong folder is one error at
    once rather than a traceback after the work.

    Args:
        path (str): The folder.
        param (str): What the caller calls it in messages, e.g. the API
            parameter ``'out_dir'`` or a tool's ``'--out-dir'``. Defaults
            to ``'out_dir'``.

    Returns:
        str: ``path``.

    Raises:
        OutputDirError: A file of that name (or of one of its parents)
            exists, or the folder cannot be created or written.
    """
    path = str(path)
    where = f'{param} {path}'
    if osp.exists(path) and not osp.isdir(path):
        raise OutputDirError(f'{where} is a file, not a folder: give a '
                             f'folder (a new one is created) as {param}')
    try:
        os.makedirs(path, exist_ok=True)
        # Creating a file is the one test that holds for every reason
        # (permissions, ACLs, a read-only mount); os.access misses some.
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        if err.errno in (errno.EEXIST, errno.ENOTDIR):
            reason = 'a part of that path is a file, not a folder'
        else:
            reason = err.strerror or type(err).__name__
        raise OutputDirError(f'cannot write to {where}: {reason}; give a '
                             f'folder you can write to as {param}') from None
    return path
