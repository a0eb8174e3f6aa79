"""``psgemm``: generated code's call into the native packed SGEMM (ABI: ``common.gemm_abi``).

The kernel is called by symbol name (a numba ``ExternalFunction``, so cached
segments stay valid across processes); ``prepack.prepack_weights`` registers
the symbol before any segment that calls it is compiled or loaded.

Large products run on numba's threads (already awake between a segment's
loops, where a Python thread pool's hand-off cost about 0.2 ms per product
here: W2's first layer took 0.79 ms that way against 0.64): A packed by
blocks of rows, then one panel of columns per ``prange`` iteration, or one
block of rows for a product too narrow to give each thread panels.

The helpers are cached on disk like ``mathlib``'s: compiling them took 3.5 s
(the ``prange`` one most of it) in every fresh process that compiled a new
kernel calling them, and the demo's cold first result went from 2.0 to 5.0 s.
"""
from __future__ import annotations

import numpy as np
from numba import prange, types

from ..common.gemm_abi import BIAS, MR, PACK_A, RELU, SYMBOL, THREADS_OK

from .mathlib import cached_njit, converter
from .threads import start_pool

# The helpers below hold a prange region. Loading such code from numba's disk
# cache before numba's thread pool is up fails ("LLVM ERROR: Symbol not found:
# allocate_sched", or a segfault), so importing this module starts the pool;
# only generated modules with packed products import it.
start_pool()

_i, _p = types.int64, types.voidptr
_kernel = types.ExternalFunction(SYMBOL, types.void(_i, _i, _i, _p, _p, _p, _i, _i, _i, _p, types.int32))
_pack_a = types.ExternalFunction(PACK_A, types.void(_i, _i, _p, _i, _p))
_threads_ok = types.ExternalFunction(THREADS_OK, types.int32())

#: multiply-adds below which a product stays on the calling thread
PARALLEL_MIN_MACS = 1 << 18
#: panels from which threads split a product by panel (else by blocks of rows)
WIDE_PANELS = 8


@cached_njit(nogil=True, parallel=True)
def _parallel(a, m, k, rows, packed, out, bias, flags):
    n = out.shape[1]
    blocks = (m + MR - 1) // MR
    for b in prange(blocks):
        r0 = b * MR
        _pack_a(min(MR, m - r0), k, a[r0:].ctypes, k, rows[r0 * k:].ctypes)
    if packed.shape[0] >= WIDE_PANELS:
        for p in prange(packed.shape[0]):
            _kernel(m, n, k, rows.ctypes, packed.ctypes, out.ctypes, n, p, p + 1, bias.ctypes, flags)
    else:
        # a narrow product (a classifier's last layer) splits by blocks of rows instead
        for b in prange(blocks):
            r0 = b * MR
            _kernel(min(MR, m - r0), n, k, rows[r0 * k:].ctypes, packed.ctypes, out[r0:].ctypes, n, 0,
                    packed.shape[0], bias.ctypes, flags)


# the kernel reads float32 memory: activations and biases of another dtype (a
# backend-level caller's; sessions check feeds) are converted, not read as garbage
_as_float32 = converter(np.float32)


@cached_njit(nogil=True)
def _product(a, packed, n, bias, flags, parallel):
    a = np.ascontiguousarray(_as_float32(a))
    m, k = a.shape
    if k != packed.shape[1]:
        raise ValueError("matmul: inner dimensions differ")
    out = np.empty((m, n), np.float32)
    if m == 0:
        return out
    # ``x.ctypes`` (not ``.data``) keeps its array alive until the call returns
    rows = np.empty((m + MR - 1) // MR * MR * k, np.float32)
    if parallel and m * n * k >= PARALLEL_MIN_MACS and _threads_ok() != 0:
        _parallel(a, m, k, rows, packed, out, bias, flags)
    else:
        _pack_a(m, k, a.ctypes, k, rows.ctypes)
        _kernel(m, n, k, rows.ctypes, packed.ctypes, out.ctypes, n, 0, packed.shape[0], bias.ctypes, flags)
    return out


@cached_njit(nogil=True)
def psgemm(a, packed, n, relu, parallel):
    """``a @ B`` as a new (m, n) float32 array, B given as ``packed`` panels;
    then ``max(., 0)`` if ``relu``. ``parallel``: a large product may use
    numba's threads."""
    return _product(a, packed, n, np.empty(0, np.float32), RELU if relu else 0, parallel)


@cached_njit(nogil=True)
def psgemm_bias(a, packed, n, bias, relu, parallel):
    """``a @ B + bias``, then ``max(., 0)`` if ``relu``: the layer in one pass."""
    bias = np.ascontiguousarray(_as_float32(bias))
    if bias.shape[0] != n:
        raise ValueError("matmul: the bias does not match the product's columns")
    return _product(a, packed, n, bias, BIAS | (RELU if relu else 0), parallel)
