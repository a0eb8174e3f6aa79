"""Vector math in LLVM IR: the float32 approximations of ``backends.numba.mathlib``.

The same constants and the same order of operations as the numba helpers, so
the maximum errors documented there hold here too (each code generator's
tests check them; contraction into FMAs may differ in the last bit). Each function
takes and returns a ``<W x float>`` value; anything without an approximation
here (float64, ``Log``, fast-math level 0) calls libm lane by lane (``libm``).
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from netjit.backends.common import approx as M

F32 = ir.FloatType()
I32 = ir.IntType(32)


def splat(ty: ir.Type, value) -> ir.Constant:
    """``value`` in every lane of the vector type ``ty`` (or a scalar constant)."""
    if isinstance(ty, ir.VectorType):
        return ir.Constant(ty, [ir.Constant(ty.element, value)] * ty.count)
    return ir.Constant(ty, value)


class ConstTable:
    """Float constants read from two table arguments instead of written into the code.

    Written into the code, each constant vector is rematerialised at every use
    inside the loop by a broadcast load from the constant pool (about 26 extra
    loads per vector of W1, whose loop ran 13 % slower than numba's). Values
    LLVM cannot see are loaded once, hoisted out of the loop and kept in
    registers or folded into FMAs as stack operands, as in numba's loop.
    ``values`` are the tables' contents, passed by the caller at every call.
    """

    def __init__(self, f32_ptr, f64_ptr):
        self.ptrs = {ir.FloatType(): f32_ptr, ir.DoubleType(): f64_ptr}
        self.values = {ir.FloatType(): [], ir.DoubleType(): []}
        self._loaded: dict = {}

    def vector(self, b: ir.IRBuilder, ty: ir.VectorType, value: float):
        key = (str(ty), np.float64(value).tobytes())      # by bits: -0.0 is not 0.0
        if key not in self._loaded:
            values = self.values[ty.element]
            values.append(float(value))
            ptr = b.gep(self.ptrs[ty.element], [ir.Constant(ir.IntType(64), len(values) - 1)], inbounds=True)
            self._loaded[key] = broadcast(b, b.load(ptr), ty)
        return self._loaded[key]

    def arrays(self) -> tuple:
        """The float32 and float64 tables, as the native function reads them."""
        return (np.array(self.values[ir.FloatType()], np.float32),
                np.array(self.values[ir.DoubleType()], np.float64))


def broadcast(b: ir.IRBuilder, scalar, ty: ir.VectorType):
    """``scalar`` in every lane of a ``ty`` vector."""
    one = b.insert_element(ir.Constant(ty, ir.Undefined), scalar, ir.Constant(I32, 0))
    return b.shuffle_vector(one, ir.Constant(ty, ir.Undefined),
                            ir.Constant(ir.VectorType(I32, ty.count), [0] * ty.count))


def fconst(b: ir.IRBuilder, ty: ir.Type, value: float):
    """A float constant of type ``ty``: from the builder's ``ConstTable`` (``b.consts``)
    when it has one and ``ty`` is a float vector, else written into the code."""
    table = getattr(b, "consts", None)
    if table is not None and isinstance(ty, ir.VectorType) and ty.element in table.ptrs:
        return table.vector(b, ty, value)
    return splat(ty, value)


def _clamp_below(b: ir.IRBuilder, x, lo):
    # ``x < lo`` is false for NaN: NaN passes through, as in the numba helpers
    return b.select(b.fcmp_ordered("<", x, lo), lo, x)


def _clamp_above(b: ir.IRBuilder, x, hi):
    return b.select(b.fcmp_ordered(">", x, hi), hi, x)


def fexp(b: ir.IRBuilder, x, flags=("contract",)):
    """``mathlib.fexp``: the rounding-bias trick needs (t + B) - B kept as written,
    so only contraction is allowed, whatever the caller's fast-math level."""
    ty = x.type
    c = _clamp_below(b, x, fconst(b, ty, float(M.EXP_LO)))
    t = b.fadd(b.fmul(c, fconst(b, ty, float(M.LOG2E)), flags=flags), fconst(b, ty, float(M.ROUND_BIAS)),
               flags=flags)
    biased = _clamp_above(b, t, fconst(b, ty, float(M.ROUND_BIAS_HI)))
    n = b.fsub(biased, fconst(b, ty, float(M.ROUND_BIAS)), flags=flags)
    r = b.fsub(c, b.fmul(n, fconst(b, ty, float(M.LN2_HI)), flags=flags), flags=flags)
    r = b.fsub(r, b.fmul(n, fconst(b, ty, float(M.LN2_LO)), flags=flags), flags=flags)
    p = b.fadd(b.fmul(fconst(b, ty, float(M.Q0)), r, flags=flags), fconst(b, ty, float(M.Q1)), flags=flags)
    for q in (M.Q2, M.Q3, M.ONE, M.ONE):
        p = b.fadd(b.fmul(p, r, flags=flags), fconst(b, ty, float(q)), flags=flags)
    ity = ir.VectorType(I32, ty.count) if isinstance(ty, ir.VectorType) else I32
    bits = b.add(b.shl(b.bitcast(biased, ity), splat(ity, 23)), splat(ity, int(M.EXP_ONE_BITS)))
    return b.fmul(p, b.bitcast(bits, ty), flags=flags)


def ftanh(b: ir.IRBuilder, x, flags):
    """``mathlib.ftanh``: Eigen's clamped 13/6 rational function."""
    ty = x.type
    clamp = float(M.TCLAMP)
    c = _clamp_below(b, x, fconst(b, ty, -clamp))
    c = _clamp_above(b, c, fconst(b, ty, clamp))
    x2 = b.fmul(c, c, flags=flags)
    p = fconst(b, ty, float(M.A13))
    for a in (M.A11, M.A9, M.A7, M.A5, M.A3, M.A1):
        p = b.fadd(b.fmul(p, x2, flags=flags), fconst(b, ty, float(a)), flags=flags)
    p = b.fmul(p, c, flags=flags)
    q = fconst(b, ty, float(M.B6))
    for a in (M.B4, M.B2, M.B0):
        q = b.fadd(b.fmul(q, x2, flags=flags), fconst(b, ty, float(a)), flags=flags)
    return b.fdiv(p, q, flags=flags)


def fsigmoid(b: ir.IRBuilder, x, flags):
    """``mathlib.fsigmoid``: 1 / (1 + fexp(-x))."""
    one = fconst(b, x.type, 1.0)
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
