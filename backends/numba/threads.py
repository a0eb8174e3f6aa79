"""Whether generated code may start numba's threads in this process.

numba's OpenMP layer terminates a child forked after its parent ran a
parallel region ("fork() called from a process already using GNU OpenMP,
this is unsafe") at the child's first one. A server that compiles a net and
then forks workers (``multiprocessing``'s default start method on Linux)
would lose every worker. Such a child runs serially instead: the generated
wrappers call serial kernels while ``THREADS.ok`` is false, and packed
products read the GEMM library's flag (``native.gemm.set_threads``).
"""
from __future__ import annotations

import os
import sys


class _Threads:
    __slots__ = ("ok",)

    def __init__(self):
        self.ok = True


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
        from netjit.backends.native import gemm
        gemm.set_threads(False)


if hasattr(os, "register_at_fork"):       # POSIX; elsewhere nothing forks
    os.register_at_fork(after_in_child=_after_fork_in_child)
