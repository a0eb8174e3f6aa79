"""Whether generated code may start numba's threads in this process.

numba's OpenMP layer terminates a child forked after its parent ran a
parallel region ("fork() called from a process already using GNU OpenMP,
this is unsafe") at the child's first one. A server that compiles a net and
then forks workers (``multiprocessing``'s default start method on Linux)
would lose every worker. Such a child runs serially instead: the generated
wrappers call serial kernels while ``THREADS.ok`` is false, and packed
products read the GEMM library's flag (``native.gemm.set_threads``).

numba's ``workqueue`` layer, its fallback where neither OpenMP nor TBB loads
(a macOS wheel without libomp), aborts the process when two threads are in
parallel regions at once ("Concurrent access has been detected"), and a
session may be run from many threads. There ``THREADS.gate`` lets one caller
at a time into a parallel kernel; the others run the serial one meanwhile,
and packed products stay serial. Under OpenMP and TBB the gate always opens.
"""
from __future__ import annotations

import os
import sys
import threading

from ..native import gemm      # the packed GEMM library's public module: its thread flag


class _OpenGate:
    """The gate of a thread-safe layer: every caller may go parallel."""
    __slots__ = ()

    def acquire(self, blocking: bool = True) -> bool:
        return True

    def release(self) -> None:
        pass


class _FirstCallGate:
    """Until numba's pool is up its layer is unknown: the first parallel call starts
    the pool (``start_pool`` installs the layer's gate) and goes through that gate."""
    __slots__ = ()

    def acquire(self, blocking: bool = True) -> bool:
        start_pool()
        return THREADS.gate.acquire(blocking)

    def release(self) -> None:
        THREADS.gate.release()


def gate_for(layer: str):
    """The gate for numba's threading ``layer``: one caller at a time under ``workqueue``."""
    return threading.Lock() if layer == "workqueue" else _OpenGate()


_START_LOCK = threading.Lock()


def start_pool() -> None:
    """Start numba's thread pool, and set this process's policy for its layer (once):
    the layer's gate, and under ``workqueue`` serial packed products, which go
    parallel inside serial kernels where no gate guards them."""
    import numba          # deferred: numba's import costs about 0.9 s; this module loads without it
    with _START_LOCK:
        numba.get_num_threads()        # launches the pool
        if not isinstance(THREADS.gate, _FirstCallGate):
            return
        layer = numba.threading_layer()
        THREADS.gate = gate_for(layer)
        if layer == "workqueue":
            gemm.set_threads(False)


class _Threads:
    __slots__ = ("ok", "gate")

    def __init__(self):
        self.ok = True
        self.gate = _FirstCallGate()


#: read by generated wrappers on every call that could go parallel
THREADS = _Threads()


def _parent_launched_threads() -> bool:
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is None or not getattr(parallel, "_is_initialized", True):
        return False
    return getattr(parallel, "_threading_layer", "omp") != "tbb"    # TBB survives a fork


def _after_fork_in_child() -> None:
    if _parent_launched_threads():
        THREADS.ok = False
        gemm.set_threads(False)


if hasattr(os, "register_at_fork"):       # POSIX; elsewhere nothing forks
    os.register_at_fork(after_in_child=_after_fork_in_child)
