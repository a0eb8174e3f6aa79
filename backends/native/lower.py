"""Per-op lowerings to LLVM IR over ``<W x T>`` vectors (the native code generator).

The counterpart of ``backends/numba/scalar.py``: the same promotion rules
(operands are converted to the op's output dtype first), the same NaN
semantics (``Max``/``Min``/``Relu`` propagate NaN like ``np.maximum``) and the
same float32 approximations at fast-math level >= 1. Registered per op class
with ``singledispatch``; an op without a lowering makes its segment ineligible
(``unsupported``), so it compiles through numba instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatch

import numpy as np
from llvmlite import ir

from netjit.compiler.ops import FusedElementwise, OpKind
from netjit.compiler.ops import elementwise as E
from netjit.compiler.ops import logical as L

from ..common.approx import SMALL_POWERS
from ..common.fastmath import APPROX_FLAGS, level
from . import vmath
from .layout import BOOL, F32, F64


@dataclass
class Ctx:
    """What a lowering needs besides its operands."""

    lanes: int
    fastmath: int
    #: id(ir value) -> Python float, for operands that are baked-in constants
    literals: dict = field(default_factory=dict)

    @property
    def flags(self):
        """The LLVM fast-math flags of the segment's own arithmetic (``common.fastmath``)."""
        return level(self.fastmath).llvm_flags


def ir_type(dtype: np.dtype, lanes: int) -> ir.Type:
    """``<lanes x T>`` for a netjit dtype (bool is ``i1``)."""
    scalar = {F32: ir.FloatType(), F64: ir.DoubleType(), BOOL: ir.IntType(1)}[np.dtype(dtype)]
    return ir.VectorType(scalar, lanes)


def convert(b: ir.IRBuilder, v, src: np.dtype, dst: np.dtype, lanes: int):
    """``v`` as ``dst`` with NumPy's ``astype`` meaning (float -> bool is ``x != 0``, NaN is true)."""
    src, dst = np.dtype(src), np.dtype(dst)
    if src == dst:
        return v
    ty = ir_type(dst, lanes)
    if dst == BOOL:
        return b.fcmp_unordered("!=", v, vmath.fconst(b, v.type, 0.0))
    if src == BOOL:
        return b.uitofp(v, ty)
    return b.fpext(v, ty) if dst == F64 else b.fptrunc(v, ty)


@singledispatch
def emit_scalar_op(op, b: ir.IRBuilder, args: list, in_dtypes: list, out_dtype: np.dtype, ctx: Ctx):
    """The IR value of ``op`` over ``args`` (one vector per operand)."""
    raise NotImplementedError(f"no native lowering for {op.name}")


def supported(op) -> bool:
    """Whether ``op`` has a lowering here."""
    return emit_scalar_op.dispatch(type(op)) is not emit_scalar_op.dispatch(object)


def unsupported(graph) -> str:
    """The name of the first op of ``graph`` without a lowering here, or ""."""
    for n in graph.nodes():
        op = graph.op(n)
        inner = [i for i, _ in op.program] if isinstance(op, FusedElementwise) else [op]
        for o in inner:
            if o.kind is not OpKind.SOURCE and not supported(o):
                return o.name
    return ""


def _operands(b, args, in_dtypes, out_dtype, ctx):
    return [convert(b, a, d, out_dtype, ctx.lanes) for a, d in zip(args, in_dtypes)]


_ARITH = {E.Add: "fadd", E.Sub: "fsub", E.Mul: "fmul", E.Div: "fdiv"}


def _arith(op, b, args, in_dtypes, out_dtype, ctx):
    x, y = _operands(b, args, in_dtypes, out_dtype, ctx)
    return getattr(b, _ARITH[type(op)])(x, y, flags=ctx.flags)


for _cls in _ARITH:
    emit_scalar_op.register(_cls)(_arith)


@emit_scalar_op.register(E.Copy)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    return convert(b, args[0], in_dtypes[0], out_dtype, ctx.lanes)


@emit_scalar_op.register(E.Neg)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    return b.fneg(_operands(b, args, in_dtypes, out_dtype, ctx)[0], flags=ctx.flags)


@emit_scalar_op.register(E.Abs)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    return vmath.intrinsic(b, "llvm.fabs", _operands(b, args, in_dtypes, out_dtype, ctx)[0])


@emit_scalar_op.register(E.Relu)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    x, = _operands(b, args, in_dtypes, out_dtype, ctx)
    return vmath.intrinsic(b, "llvm.maximum", x, vmath.fconst(b, x.type, 0.0))


@emit_scalar_op.register(E.Sqrt)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    return vmath.intrinsic(b, "llvm.sqrt", _operands(b, args, in_dtypes, out_dtype, ctx)[0])


def _libm_name(name: str, dtype: np.dtype) -> str:
    return name + ("f" if dtype == F32 else "")


# The approximations take the level-1 flags whatever the level, as the numba
# helpers are compiled: under "fast" (nnan, ninf) fsigmoid(-100) came out NaN.
_APPROX = {E.Exp: lambda b, x: vmath.fexp(b, x), E.Tanh: lambda b, x: vmath.ftanh(b, x, APPROX_FLAGS),
           E.Sigmoid: lambda b, x: vmath.fsigmoid(b, x, APPROX_FLAGS)}


def _unary_float(libm_name):
    """The lowering of a transcendental op: an approximation for float32 at fast-math
    level >= 1 where one exists, else libm's ``libm_name`` (None: Sigmoid from exp)."""
    def lowering(op, b, args, in_dtypes, out_dtype, ctx):
        x, = _operands(b, args, in_dtypes, out_dtype, ctx)
        approx = _APPROX.get(type(op)) if ctx.fastmath >= 1 and out_dtype == F32 else None
        if approx is not None:
            return approx(b, x)
        if libm_name is None:
            one = vmath.fconst(b, x.type, 1.0)
            e = vmath.libm(b, _libm_name("exp", out_dtype), b.fneg(x, flags=ctx.flags))
            return b.fdiv(one, b.fadd(one, e, flags=ctx.flags), flags=ctx.flags)
        return vmath.libm(b, _libm_name(libm_name, out_dtype), x)
    return lowering


for _cls, _name in ((E.Exp, "exp"), (E.Log, "log"), (E.Tanh, "tanh"), (E.Sigmoid, None)):
    emit_scalar_op.register(_cls)(_unary_float(_name))


@emit_scalar_op.register(E.Pow)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    base, expo = _operands(b, args, in_dtypes, out_dtype, ctx)
    k = ctx.literals.get(id(args[1]))
    if k is not None and k in SMALL_POWERS:
        # as the numba backend: x**3 is two multiplies, not a libm pow call
        f = ctx.flags
        if k == 0.5:
            return vmath.intrinsic(b, "llvm.sqrt", base)
        if k == 1.0:
            return base
        sq = b.fmul(base, base, flags=f)
        return {2.0: lambda: sq, 3.0: lambda: b.fmul(sq, base, flags=f),
                4.0: lambda: b.fmul(sq, sq, flags=f)}[k]()
    return vmath.libm(b, _libm_name("pow", out_dtype), base, expo)


def _nary(combine):
    """The lowering of Caffe2's n-ary Max/Min/Sum: ``combine`` folded over the operands."""
    def lowering(op, b, args, in_dtypes, out_dtype, ctx):
        xs = _operands(b, args, in_dtypes, out_dtype, ctx)
        acc = xs[0]
        for x in xs[1:]:
            acc = combine(b, acc, x, ctx)
        return acc
    return lowering


emit_scalar_op.register(E.Max)(_nary(lambda b, a, x, ctx: vmath.intrinsic(b, "llvm.maximum", a, x)))
emit_scalar_op.register(E.Min)(_nary(lambda b, a, x, ctx: vmath.intrinsic(b, "llvm.minimum", a, x)))
emit_scalar_op.register(E.Sum)(_nary(lambda b, a, x, ctx: b.fadd(a, x, flags=ctx.flags)))


def _compare(predicate: str):
    def lowering(op, b, args, in_dtypes, out_dtype, ctx):
        common = np.result_type(*in_dtypes)
        x, y = (convert(b, a, d, common, ctx.lanes) for a, d in zip(args, in_dtypes))
        if common == BOOL:
            return b.icmp_unsigned(predicate, x, y)
        return b.fcmp_ordered(predicate, x, y)      # NumPy: any comparison with NaN is false
    return lowering


for _cls, _predicate in {E.LT: "<", E.LE: "<=", E.GT: ">", E.GE: ">=", E.EQ: "=="}.items():
    emit_scalar_op.register(_cls)(_compare(_predicate))


@emit_scalar_op.register(E.Where)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    cond = args[0]
    x, y = (convert(b, a, d, out_dtype, ctx.lanes) for a, d in zip(args[1:], in_dtypes[1:]))
    return b.select(cond, x, y)


@emit_scalar_op.register(E.Cast)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    return convert(b, args[0], in_dtypes[0], out_dtype, ctx.lanes)


@emit_scalar_op.register(L.Not)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    return b.not_(args[0])


@emit_scalar_op.register(L.And)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    return b.and_(*args)


@emit_scalar_op.register(L.Or)
def _(op, b, args, in_dtypes, out_dtype, ctx):
    return b.or_(*args)
