"""Output buffers reused across calls once the caller has dropped them.

Writing a large output into freshly allocated memory costs page faults (about
2x the time of writing into a warm buffer). A pool keeps the last two output
arrays of a kernel; ``take`` hands one back only when nothing outside the
pool refers to it any more (``sys.getrefcount``; a view of it counts, since
views keep their base alive), so values returned to users are never
overwritten. Used only on the large-tensor (parallel) path, by the numba
backend and the native code generator.
"""
from __future__ import annotations

import sys
import threading

import numpy as np

_getrefcount = sys.getrefcount


class BufferPool:
    __slots__ = ("dummy", "buffers", "lock")

    def __init__(self, t=None):
        # the numba kernels take an empty array of the output's type for "none free"
        self.dummy = np.empty((0,) * t.rank, t.dtype) if t is not None else None
        self.buffers: list = []
        self.lock = threading.Lock()

    def take(self) -> np.ndarray:
        """A free buffer (the kernel checks its shape) or an empty placeholder."""
        with self.lock:
            for k in range(len(self.buffers)):
                buf = self.buffers[k]
                # references: the list, ``buf`` and getrefcount's argument
                if _getrefcount(buf) == 3:
                    del self.buffers[k]
                    return buf
        return self.dummy

    def take_shaped(self, shape: tuple, dtype) -> np.ndarray:
        """A free buffer of ``shape`` and ``dtype``, else a new one."""
        buf = self.take()
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            return np.empty(shape, dtype)
        return buf

    def give(self, arr: np.ndarray) -> None:
        """Remember ``arr`` (just returned to the caller) for a later call."""
        if arr.size == 0:
            return
        with self.lock:
            self.buffers.append(arr)
            if len(self.buffers) > 2:
                del self.buffers[0]
