"""What the compiled backends share, so neither reaches into the other for it.

* ``cache``: cache entry folders, manifests, the memory cache, per-key locks, ``STATS``.
* ``pool``: output buffer pools and the worker threads of parallel native calls.
* ``fastmath``: the fast-math levels: LLVM flags and numba's ``fastmath=`` from one table.
* ``approx``: the constants of the float32 exp/tanh approximations, and the small powers.
* ``gemm_abi``: the packed SGEMM library's symbols and flags (native builds it, numba calls it).
* ``tiered``: an executable answering on the reference backend until its compiled tier is ready.
"""
