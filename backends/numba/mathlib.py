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
  -87.34 the result is a denormal), NaN stays NaN.
* ``ftanh``: absolute and relative error <= 4e-7 everywhere (odd; |x| >= 7.9
  gives +-0.99999976, the clamp); NaN stays NaN.
* ``fsigmoid`` = 1 / (1 + fexp(-x)): relative error <= 5e-7 wherever the
  result is a normal float32.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

F = np.float32
_LOG2E = F(1.4426950408889634)
_LN2_HI = F(0.693359375)
_LN2_LO = F(-2.12194440e-4)
# exp(r) = 1 + r + r**2 (Q0 r**3 + Q1 r**2 + Q2 r + Q3) on |r| <= ln2/2.
_Q0, _Q1, _Q2, _Q3 = (F(c) for c in (8.312801830470562e-3, 4.1890207678079605e-2,
                                     1.6667111217975616e-1, 4.99992311000824e-1))
_EXP_LO = F(-88.0)
_ROUND_BIAS = F(12582912.0)  # 1.5 * 2**23
_ROUND_BIAS_HI = F(12582912.0 + 128)
_EXP_ONE_BITS = np.int32(127 << 23)
_ONE = F(1.0)
# Eigen's generic_fast_tanh_float: a 13/6 rational approximation.
_A = [F(c) for c in (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
                     5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
                     4.89352455891786e-03)]
_A13, _A11, _A9, _A7, _A5, _A3, _A1 = _A
_B6, _B4, _B2, _B0 = (F(c) for c in (1.19825839466702e-06, 1.18534705686654e-04,
                                     2.26843463243900e-03, 4.89352518554385e-03))
_TCLAMP = F(7.90531110763549805)
_FLAGS = {"nsz", "contract", "arcp", "reassoc"}


def _cached(**options):
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


# The rounding-bias trick needs (t + B) - B kept as written, so fexp may only
# contract (fuse multiply-adds), never reassociate.
@_cached(fastmath={"contract"}, error_model="numpy")
def fexp(x):
    """exp(x) in about 15 vector instructions: no branch, no NaN test, no float-to-int conversion.

    n = round(x log2 e) comes from adding 1.5 * 2**23, whose float has ulp 1:
    the low mantissa bits of the sum are n as an integer and shift straight
    into the exponent field of 2**n. Clamping that sum keeps n in [-127, 128];
    2**-127 has an all-zero bit pattern (exp(x <= -87.68) is 0) and 2**128
    that of inf (exp(x > 88.38) is inf). Both clamps pass NaN through
    (``x < lo`` is false for NaN) and the arithmetic keeps it NaN. exp(r) on
    |r| <= ln2/2 is 1 + r + r**2 q(r), q a cubic fitted for relative error
    (1.1e-7 in exact arithmetic).
    """
    c = _EXP_LO if x < _EXP_LO else x
    t = c * _LOG2E + _ROUND_BIAS
    biased = _ROUND_BIAS_HI if t > _ROUND_BIAS_HI else t
    n = biased - _ROUND_BIAS
    r = c - n * _LN2_HI
    r = r - n * _LN2_LO
    p = _Q0 * r + _Q1
    p = p * r + _Q2
    p = p * r + _Q3
    p = p * r + _ONE
    p = p * r + _ONE
    return p * _i32_as_f32((_f32_bits(biased) << np.int32(23)) + _EXP_ONE_BITS)


@_cached(fastmath=_FLAGS, error_model="numpy")
def ftanh(x):
    """tanh as Eigen's clamped 13/6 rational function; the clamp passes NaN through."""
    c = -_TCLAMP if x < -_TCLAMP else x
    c = _TCLAMP if c > _TCLAMP else c
    x2 = c * c
    p = _A13 * x2 + _A11
    p = p * x2 + _A9
    p = p * x2 + _A7
    p = p * x2 + _A5
    p = p * x2 + _A3
    p = p * x2 + _A1
    p = p * c
    q = _B6 * x2 + _B4
    q = q * x2 + _B2
    q = q * x2 + _B0
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


@_cached(fastmath=_FLAGS, error_model="numpy")
def fsigmoid(x):
    """1 / (1 + exp(-x)) with ``fexp``."""
    return _ONE / (_ONE + fexp(-x))


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


@_cached()
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
