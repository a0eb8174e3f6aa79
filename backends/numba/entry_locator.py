"""numba reads and writes a segment's cache files only in the segment's private stage.

numba stores a cached function where the first of its cache locators that
accepts the function says (``NUMBA_CACHE_DIR``, else the ``__pycache__``
beside the source file), and loads its index (``.nbi``) and data (``.nbc``)
files from there with ``pickle``: whoever can write that directory runs code
in the process. So numba never sees a netjit cache entry. A segment module
is executed with ``STAGE_GLOBAL`` naming a private directory (``cache.Stage``:
0700, this process's) that holds only files netjit verified against the
entry's signed manifest; ``StageLocator``, first in numba's locator list,
points numba there, and netjit copies what numba wrote back into the entry
(``cache.Stage.publish``). The source stamp is the hash of the module source
netjit executed, not of any file.

numba's locator list is not public API; where it is missing, or a user chose
the locators with ``NUMBA_CACHE_LOCATOR_CLASSES``, ``install`` says False and
segments compile without numba's disk cache.
"""
from __future__ import annotations

from numba.core import caching, config

#: the module name prefix of every generated segment module
SEGMENT_MODULE_PREFIX = "netjit_segment_"
#: the segment module global naming its stage directory (absent: no disk cache)
STAGE_GLOBAL = "__netjit_stage__"
#: the segment module global holding its source stamp (a hash of the source)
STAMP_GLOBAL = "__netjit_stamp__"

_BASE = getattr(caching, "_CacheLocator", None)
_IMPL = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)


if _BASE is not None:
    class StageLocator(_BASE):
        """A segment function's stage directory; declines every other function."""

        def __init__(self, path: str, stamp, lineno: int):
            self._path, self._stamp, self._lineno = path, stamp, lineno

        def get_cache_path(self):
            return self._path

        def get_source_stamp(self):
            return self._stamp

        def get_disambiguator(self):
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            scope = getattr(py_func, "__globals__", {})
            if (not getattr(py_func, "__module__", "").startswith(SEGMENT_MODULE_PREFIX)
                    or STAGE_GLOBAL not in scope):
                return None
            return cls(scope[STAGE_GLOBAL], scope[STAMP_GLOBAL], py_func.__code__.co_firstlineno)
else:  # pragma: no cover - a numba without the locator base class
    StageLocator = None


def install() -> bool:
    """Put ``StageLocator`` first in numba's locator list (once); False where it cannot
    be: then segments must not ask numba to cache."""
    classes = getattr(_IMPL, "_locator_classes", None)
    if StageLocator is None or not isinstance(classes, list) or getattr(config, "CACHE_LOCATOR_CLASSES", None):
        return False
    if StageLocator not in classes:
        _IMPL._locator_classes = [StageLocator] + classes
    return True
