"""Memory and threads shared by the compiled backends: output buffer pools, worker threads.

``BufferPool``: writing a large output into freshly allocated memory costs page
faults (about 2x the time of writing into a warm buffer). A pool keeps the last
two output arrays of a kernel; ``take`` hands one back only when nothing outside
the pool refers to it any more (``sys.getrefcount``; a view of it counts, since
views keep their base alive), so values returned to users are never
overwritten. Used only on the large-tensor (parallel) path, by the numba
backend's generated wrappers and by native segments.

``worker_pool()``: the process's threads for running slices of one native call
in parallel (the call releases the GIL).
"""
from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

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


_WORKERS: list = []
_WORKERS_LOCK = threading.Lock()

# a forked child has the pool object but not its threads: it starts a new one
if hasattr(os, "register_at_fork"):       # POSIX; elsewhere nothing forks
    os.register_at_fork(after_in_child=_WORKERS.clear)


def worker_pool() -> ThreadPoolExecutor:
    """The process's worker threads (one fewer than the cores: the caller runs a slice too)."""
    with _WORKERS_LOCK:
        if not _WORKERS:
            _WORKERS.append(ThreadPoolExecutor(max(1, (os.cpu_count() or 1) - 1), thread_name_prefix="netjit-native"))
        return _WORKERS[0]
