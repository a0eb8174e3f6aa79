"""``BufferPool`` for the numba code generator (``codegen`` imports it from here);
it lives in ``common.pool``, shared with native segments."""
from __future__ import annotations

from ..common.pool import BufferPool

__all__ = ["BufferPool"]
