"""Start the command-line tools without the ~3 s of torch and MMPretrain.

``import dan_mm`` registers DAN's components with MMPretrain, which imports
torch. A tool checks its arguments and files first, so that ``--help``, a
typo or a missing file answer at once: the script run as ``__main__`` sets
``DAN_MM_DEFER_IMPORTS = True`` before its first ``dan_mm`` import
(:mod:`dan_mm.utils.cli` and :mod:`dan_mm.utils.errors` are then all it
loads), and the registration runs when it imports any other ``dan_mm``
module (:class:`RegisterOnHeavyImport`), before that module's code. So
nothing that needs the registration can run without it, and other
processes (a tool's workers, a library user's ``import dan_mm``) register
at once as before.
"""
import importlib.abc
import sys
from typing import Callable

# The global a tool script sets to True before it imports dan_mm. (Not an
# environment variable: processes the tool starts must register at once.)
DEFER_FLAG = 'DAN_MM_DEFER_IMPORTS'

# What a tool may import before the registration: the standard library only.
LIGHT_MODULES = frozenset({
    'dan_mm', 'dan_mm.deferred_imports', 'dan_mm.version', 'dan_mm.utils',
    'dan_mm.utils.cli', 'dan_mm.utils.errors', 'dan_mm.utils.onnx_cache',
    'dan_mm.utils.worker_errors'
})


def defer_requested() -> bool:
    """Whether the script run as ``__main__`` asked to defer."""
    return getattr(sys.modules.get('__main__'), DEFER_FLAG, False) is True


class RegisterOnHeavyImport(importlib.abc.MetaPathFinder):
    """Run ``register`` once, just before the first ``dan_mm`` module outside
    :data:`LIGHT_MODULES` is imported.

    Args:
        register (Callable[[], None]): What ``import dan_mm`` does in full.
    """

    def __init__(self, register: Callable[[], None]):
        self.register = register

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith('dan_mm.') and fullname not in LIGHT_MODULES:
            self.remove()
            self.register()
        return None  # the usual finders load the module itself

    def install(self) -> None:
        sys.meta_path.insert(0, self)

    def remove(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)
