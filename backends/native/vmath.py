"""Vector math in LLVM IR: the float32 approximations of ``backends.numba.mathlib``.

The same constants and the same order of operations as the numba helpers, so
both backends give bit-identical results and the documented maximum errors
(tested in tests/backends/numba/test_mathlib.py) hold here too. Each function
takes and returns a ``<W x float>`` value; anything without an approximation
here (float64, ``Log``, fast-math level 0) calls libm lane by lane (``libm``).
"""
from __future__ import annotations

from llvmlite import ir

from netjit.backends import approx as M

F32 = ir.FloatType()
I32 = ir.IntType(32)


def splat(ty: ir.Type, value) -> ir.Constant:
    """``value`` in every lane of the vector type ``ty`` (or a scalar constant)."""
    if isinstance(ty, ir.VectorType):
        return ir.Constant(ty, [ir.Constant(ty.element, value)] * ty.count)
    return ir.Constant(ty, value)


def _clamp_below(b: ir.IRBuilder, x, lo):
    # ``x < lo`` is false for NaN: NaN passes through, as in the numba helpers
    return b.select(b.fcmp_ordered("<", x, lo), lo, x)


def _clamp_above(b: ir.IRBuilder, x, hi):
    return b.select(b.fcmp_ordered(">", x, hi), hi, x)


def fexp(b: ir.IRBuilder, x, flags=("contract",)):
    """``mathlib.fexp``: the rounding-bias trick needs (t + B) - B kept as written,
    so only contraction is allowed, whatever the caller's fast-math level."""
    ty = x.type
    c = _clamp_below(b, x, splat(ty, float(M.EXP_LO)))
    t = b.fadd(b.fmul(c, splat(ty, float(M.LOG2E)), flags=flags), splat(ty, float(M.ROUND_BIAS)), flags=flags)
    biased = _clamp_above(b, t, splat(ty, float(M.ROUND_BIAS_HI)))
    n = b.fsub(biased, splat(ty, float(M.ROUND_BIAS)), flags=flags)
    r = b.fsub(c, b.fmul(n, splat(ty, float(M.LN2_HI)), flags=flags), flags=flags)
    r = b.fsub(r, b.fmul(n, splat(ty, float(M.LN2_LO)), flags=flags), flags=flags)
    p = b.fadd(b.fmul(splat(ty, float(M.Q0)), r, flags=flags), splat(ty, float(M.Q1)), flags=flags)
    for q in (M.Q2, M.Q3, M.ONE, M.ONE):
        p = b.fadd(b.fmul(p, r, flags=flags), splat(ty, float(q)), flags=flags)
    ity = ir.VectorType(I32, ty.count) if isinstance(ty, ir.VectorType) else I32
    bits = b.add(b.shl(b.bitcast(biased, ity), splat(ity, 23)), splat(ity, int(M.EXP_ONE_BITS)))
    return b.fmul(p, b.bitcast(bits, ty), flags=flags)


def ftanh(b: ir.IRBuilder, x, flags):
    """``mathlib.ftanh``: Eigen's clamped 13/6 rational function."""
    ty = x.type
    clamp = float(M.TCLAMP)
    c = _clamp_below(b, x, splat(ty, -clamp))
    c = _clamp_above(b, c, splat(ty, clamp))
    x2 = b.fmul(c, c, flags=flags)
    p = splat(ty, float(M.A13))
    for a in (M.A11, M.A9, M.A7, M.A5, M.A3, M.A1):
        p = b.fadd(b.fmul(p, x2, flags=flags), splat(ty, float(a)), flags=flags)
    p = b.fmul(p, c, flags=flags)
    q = splat(ty, float(M.B6))
    for a in (M.B4, M.B2, M.B0):
        q = b.fadd(b.fmul(q, x2, flags=flags), splat(ty, float(a)), flags=flags)
    return b.fdiv(p, q, flags=flags)


def fsigmoid(b: ir.IRBuilder, x, flags):
    """``mathlib.fsigmoid``: 1 / (1 + fexp(-x))."""
    one = splat(x.type, 1.0)
    return b.fdiv(one, b.fadd(one, fexp(b, b.fneg(x, flags=flags)), flags=flags), flags=flags)


def libm(b: ir.IRBuilder, name: str, *args):
    """libm's ``name`` applied lane by lane (``expf``, ``tanh``, ``powf``, ...).

    Explicit per-lane calls rather than LLVM's vector intrinsics: not every
    intrinsic (``llvm.tanh``) lowers on every LLVM the wheels ship.
    """
    ty = args[0].type
    scalar = ty.element if isinstance(ty, ir.VectorType) else ty
    mod = b.module
    fn = mod.globals.get(name) or ir.Function(mod, ir.FunctionType(scalar, [scalar] * len(args)), name)
    if not isinstance(ty, ir.VectorType):
        return b.call(fn, list(args))
    out = ir.Constant(ty, ir.Undefined)
    for lane in range(ty.count):
        idx = ir.Constant(I32, lane)
        out = b.insert_element(out, b.call(fn, [b.extract_element(a, idx) for a in args]), idx)
    return out


def intrinsic(b: ir.IRBuilder, name: str, *args):
    """An overloaded LLVM intrinsic over the arguments' type (``llvm.sqrt``, ``llvm.maximum``...)."""
    ty = args[0].type
    scalar = ty.element if isinstance(ty, ir.VectorType) else ty
    suffix = ("f32" if scalar == F32 else "f64")
    if isinstance(ty, ir.VectorType):
        suffix = f"v{ty.count}{suffix}"
    full = f"{name}.{suffix}"
    mod = b.module
    fn = mod.globals.get(full) or ir.Function(mod, ir.FunctionType(ty, [ty] * len(args)), full)
    return b.call(fn, list(args))
