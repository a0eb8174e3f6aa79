"""The packed SGEMM library's ABI: symbol names, tile height and flag bits.

The native code generator implements it (``native.gemm_ir`` writes the IR,
``native.gemm`` compiles, caches and registers the library with LLVM); numba
segments call it by symbol name (``numba.packed_gemm``). Both read the ABI from
here, so neither backend reaches into the other for it. The C signatures::

    void netjit_sgemm_pack_a(i64 M, i64 K, ptr A, i64 lda, ptr packed_a)
    i32 netjit_sgemm_threads_ok()            # 0: run products on the calling thread
    void netjit_sgemm_set_threads(i32 ok)
    void netjit_sgemm_packed(i64 M, i64 N, i64 K, ptr packed_a, ptr packed_b,
                             ptr C, i64 ldc, i64 p0, i64 p1,
                             ptr bias, i32 flags)    # flags: BIAS | RELU

A is packed by blocks of ``MR`` rows; the product computes panels ``[p0, p1)``
of C, so callers split the work over threads by panel or by block of rows.
"""
SYMBOL = "netjit_sgemm_packed"
PACK_A = "netjit_sgemm_pack_a"
#: the library's flag "callers may use threads" (0 in a forked child), and its setter
THREADS_OK, SET_THREADS = "netjit_sgemm_threads_ok", "netjit_sgemm_set_threads"
#: rows of C per micro-kernel call (and per block of packed A)
MR = 6
#: ``flags`` bits: add the bias; ReLU after it
BIAS, RELU = 2, 1
