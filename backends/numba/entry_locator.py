"""numba's cache files of a segment stay in the segment's netjit cache entry.

numba stores a cached function where the first of its cache locators that
accepts the function says: ``NUMBA_CACHE_DIR`` when that is set, else the
``__pycache__`` beside the source file. A segment's files belong beside its
``segment.py``, in the entry: the manifest checks them, a corrupt entry is
deleted with them, and a cleared cache leaves none behind. Under
``NUMBA_CACHE_DIR`` they went there instead, out of the manifest's sight,
and a damaged one failed every later compile of its segment. ``install``
puts a locator that takes segment modules, and nothing else, first.

numba's locator list is not public API; where it is missing (or a user
chose the locators with ``NUMBA_CACHE_LOCATOR_CLASSES``), nothing changes.
"""
from __future__ import annotations

from numba.core import caching

#: the module name prefix of every generated segment module
SEGMENT_MODULE_PREFIX = "netjit_segment_"

_IN_TREE = getattr(caching, "InTreeCacheLocator", None) or getattr(caching, "_InTreeCacheLocator", None)
_IMPL = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)


def _for_segments(base):
    class EntryLocator(base):
        """``__pycache__`` beside a segment module's source (its entry); declines other functions."""

        @classmethod
        def from_function(cls, py_func, py_file):
            if not getattr(py_func, "__module__", "").startswith(SEGMENT_MODULE_PREFIX):
                return None
            return super().from_function(py_func, py_file)
    return EntryLocator


EntryLocator = _for_segments(_IN_TREE) if _IN_TREE is not None else None


def install() -> bool:
    """Put ``EntryLocator`` first in numba's locator list (once); False where numba's
    caching module lacks the pieces."""
    classes = getattr(_IMPL, "_locator_classes", None)
    if EntryLocator is None or not isinstance(classes, list):
        return False
    if EntryLocator not in classes:
        _IMPL._locator_classes = [EntryLocator] + classes
    return True
