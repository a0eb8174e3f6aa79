"""Vectorisable float32 math for generated kernels, and small array helpers.

LLVM in the PyPI llvmlite wheel has no SVML: ``math.exp`` on float32 becomes a
scalar ``expf`` call per element, which blocks vectorisation. These
approximations use only arithmetic, compares and bit casts, so a loop that
calls them vectorises (AVX2: 8 lanes). Used at fast-math level >= 1, float32
only; float64 always uses libm.

Documented maximum errors (checked by tests/backends/numba/test_mathlib.py on
a dense grid against float64 NumPy):

* ``fexp``: relative error <= 4e-7 (about 3 ulp) where the result is a
  normal float32; x > 88.38 gives inf, x <= -87.68 gives 0 (between that and
  -87.34 the result is a denormal), NaN stays NaN. ``fexp_capped`` equals it
  bit for bit on x <= 88.37.
* ``ftanh``: absolute and relative error <= 4e-7 everywhere (odd; |x| >= 7.9
  gives +-0.99999976, the clamp); NaN stays NaN.
* ``fsigmoid`` = 1 / (1 + fexp(-x)): relative error <= 5e-7 wherever the
  result is a normal float32.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
import numba
from numba import njit, types
from numba.extending import intrinsic, overload

from ..common import approx as C
from ..common.fastmath import APPROX_FLAGS

#: the approximations' flags, as native segments compile them (``common.fastmath``)
_FLAGS = set(APPROX_FLAGS)


def cached_njit(**options):
    """``njit`` with numba's on-disk cache (beside this file, else numba's user cache).

    Each helper costs about 0.1 s to compile, in every fresh process that
    compiles a new kernel calling it; cached, only the first process pays.
    Where numba finds no writable cache location it refuses ``cache=True``
    at decoration: then the helper compiles per process, as before.
    """
    def wrap(fn):
        try:
            return njit(cache=True, **options)(fn)
        except RuntimeError:        # "cannot cache function ...: no locator available"
            return njit(**options)(fn)
    return wrap


def converter(dtype):
    """An njit-callable ``convert(a)``: ``a`` itself when its dtype is ``dtype``, else
    ``a.astype(dtype)``; chosen per argument type at compile time. For code that
    hands an array's memory to a C kernel of one element type."""
    dtype = np.dtype(dtype)
    target = numba.from_dtype(dtype)

    def convert(a):
        return a.astype(dtype)

    @overload(convert)
    def _typed(a):
        if a.dtype == target:
            return lambda a: a
        return lambda a: a.astype(dtype)

    return convert


@intrinsic
def _i32_as_f32(typingctx, x):
    """Reinterpret int32 bits as float32 (an LLVM bitcast; vectorises)."""
    if isinstance(x, types.Integer):
        def codegen(context, builder, signature, args):
            v = args[0]
            width = v.type.width
            if width > 32:
                v = builder.trunc(v, ir.IntType(32))
            elif width < 32:
                v = builder.sext(v, ir.IntType(32))
            return builder.bitcast(v, ir.FloatType())
        return types.float32(x), codegen
    return None


@intrinsic
def _f32_bits(typingctx, x):
    """The bits of a float32 as int32 (an LLVM bitcast; vectorises)."""
    if x == types.float32:
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.IntType(32))
        return types.int32(x), codegen
    return None


@cached_njit(fastmath={"contract"}, error_model="numpy")
def _exp_reduced(c, n):
    """exp(c - n ln2) for |c - n ln2| <= ln2/2: a two-step (Cody-Waite) reduction, then
    1 + r + r**2 q(r), q a cubic fitted for relative error (1.1e-7 in exact arithmetic)."""
    r = c - n * C.LN2_HI
    r = r - n * C.LN2_LO
    p = C.Q0 * r + C.Q1
    p = p * r + C.Q2
    p = p * r + C.Q3
    p = p * r + C.ONE
    return p * r + C.ONE


# The rounding-bias trick needs (t + B) - B kept as written, so fexp may only
# contract (fuse multiply-adds), never reassociate.
@cached_njit(fastmath={"contract"}, error_model="numpy")
def fexp(x):
    """exp(x) in about 15 vector instructions: no branch, no NaN test, no float-to-int conversion.

    n = round(x log2 e) comes from adding 1.5 * 2**23, whose float has ulp 1:
    the low mantissa bits of the sum are n as an integer and shift straight
    into the exponent field of 2**n. Clamping that sum keeps n in [-127, 128];
    2**-127 has an all-zero bit pattern (exp(x <= -87.68) is 0) and 2**128
    that of inf (exp(x > 88.38) is inf). Both clamps pass NaN through
    (``x < lo`` is false for NaN) and the arithmetic keeps it NaN. exp(r) on
    |r| <= ln2/2 is ``_exp_reduced``.
    """
    c = C.EXP_LO if x < C.EXP_LO else x
    t = c * C.LOG2E + C.ROUND_BIAS
    biased = C.ROUND_BIAS_HI if t > C.ROUND_BIAS_HI else t
    n = biased - C.ROUND_BIAS
    return _exp_reduced(c, n) * _i32_as_f32((_f32_bits(biased) << np.int32(23)) + C.EXP_ONE_BITS)


@cached_njit(fastmath={"contract"}, error_model="numpy")
def fexp_capped(x):
    """``fexp`` for arguments known to be at most 88.37 (``x - max(x)`` in a softmax).

    Without the overflow clamp, 127 folds into the rounding bias, so the low
    bits of the rounded sum are already 2**n's exponent field: two constants
    and two vector instructions fewer than ``fexp``, which keeps more of the
    loop's constants in registers. For x <= 88.37, NaN and -inf the result is
    bit for bit ``fexp``'s; above 88.37 it is garbage, so the code generator
    calls it only where the argument is bounded by construction.
    """
    c = C.EXP_LO if x < C.EXP_LO else x
    t = c * C.LOG2E + C.ROUND_BIAS_EXP
    n = t - C.ROUND_BIAS_EXP
    return _exp_reduced(c, n) * _i32_as_f32(_f32_bits(t) << np.int32(23))


@cached_njit(fastmath=_FLAGS, error_model="numpy")
def ftanh(x):
    """tanh as Eigen's clamped 13/6 rational function; the clamp passes NaN through."""
    c = -C.TCLAMP if x < -C.TCLAMP else x
    c = C.TCLAMP if c > C.TCLAMP else c
    x2 = c * c
    p = C.A13 * x2 + C.A11
    p = p * x2 + C.A9
    p = p * x2 + C.A7
    p = p * x2 + C.A5
    p = p * x2 + C.A3
    p = p * x2 + C.A1
    p = p * c
    q = C.B6 * x2 + C.B4
    q = q * x2 + C.B2
    q = q * x2 + C.B0
    return p / q


def _nan_propagating(intrinsic_name: str, doc: str):
    """A float (a, b) -> float intrinsic calling LLVM's ``llvm.maximum``/``llvm.minimum``."""
    def typer(typingctx, a, b):
        if isinstance(a, types.Float) and a == b:
            def codegen(context, builder, signature, args):
                lt = args[0].type
                fn = builder.module.declare_intrinsic(intrinsic_name, [lt], ir.FunctionType(lt, [lt, lt]))
                return builder.call(fn, args)
            return a(a, b), codegen
        return None
    typer.__name__ = intrinsic_name.replace("llvm.", "f")
    typer.__doc__ = doc
    return intrinsic(typer)


# A max reduction written as a compare and select, with NaN tracked beside it,
# does not vectorise (LLVM only turns selects into vector max reductions under
# no-NaN fast-math, which would also drop the NaN check). LLVM's NaN-propagating
# maximum/minimum intrinsics have NumPy's semantics (np.max: any NaN gives NaN)
# and vectorise without fast-math flags: the W5 row max ran 3.6-7.4 ms -> 2.2 ms.
fmaximum = _nan_propagating("llvm.maximum", "max(a, b) as np.maximum: NaN if either is NaN.")
fminimum = _nan_propagating("llvm.minimum", "min(a, b) as np.minimum: NaN if either is NaN.")


@intrinsic
def radd(typingctx, a, b):
    """a + b for a reduction's accumulator: the one addition that may reassociate.

    A float sum vectorises only if LLVM may reorder it. numba sets fast-math
    flags for a whole kernel, where reassociation also rewrites elementwise
    arithmetic ((x + y) - y to x, losing y's inf); this ``fadd`` carries
    ``reassoc`` itself (with ``nsz``, and ``contract`` so that a product still
    fuses into it), so kernels need no reassociation.
    """
    if isinstance(a, types.Float) and a == b:
        def codegen(context, builder, signature, args):
            return builder.fadd(args[0], args[1], flags=("reassoc", "nsz", "contract"))
        return a(a, b), codegen
    return None


@njit(inline="always")
def add_ieee(a, b):
    """a + b for a reduction's accumulator at fast-math level 0: in order, as IEEE adds."""
    return a + b


@cached_njit(fastmath=_FLAGS, error_model="numpy")
def fsigmoid(x):
    """1 / (1 + exp(-x)) with ``fexp``."""
    return C.ONE / (C.ONE + fexp(-x))


@njit(inline="always")
def expand(a, shape):
    """``a`` broadcast to ``shape`` as a fresh C-contiguous array (raises if it does not broadcast)."""
    return np.ascontiguousarray(np.broadcast_to(a, shape))


@njit(inline="always")
def bdim(d, full):
    """The broadcast of two runtime dims; raises ValueError when they clash."""
    if d == full or d == 1:
        return full
    if full == 1:
        return d
    raise ValueError("shapes do not broadcast")


@cached_njit()
def imatmul(a, b):
    """Integer 2-D matmul (BLAS has none); i-k-j order so the inner loop vectorises."""
    m, k = a.shape
    if b.shape[0] != k:
        raise ValueError("matmul: inner dimensions differ")
    n = b.shape[1]
    out = np.zeros((m, n), a.dtype)
    for i in range(m):
        for p in range(k):
            s = a[i, p]
            for j in range(n):
                out[i, j] += s * b[p, j]
    return out
