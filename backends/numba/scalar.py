"""Per-element expressions of elementwise ops, as numba-typed Python source.

Every result is wrapped in its NumPy dtype constructor (``np.float32(...)``)
so generated loops follow NumPy's promotion (i32 + i32 stays i32, f32 math
stays f32) instead of Python's; LLVM drops the no-op casts. Constants are
typed module globals (``ctx.const``), never bare Python floats, which would
promote float32 loops to float64. Lowerings are registered per op class with
``singledispatch``, as PyTensor's ``numba_funcify`` does.
"""
from __future__ import annotations

from functools import singledispatch
from typing import Protocol, Sequence

import numpy as np

from netjit.compiler.ops import Op
from netjit.compiler.ops import elementwise as E
from netjit.compiler.ops.types import FLOAT_DTYPES

#: Unary float ops with a vectorisable float32 approximation in ``mathlib``.
_FAST_F32 = {"Exp": "fexp", "Tanh": "ftanh", "Sigmoid": "fsigmoid"}
_LIBM = {"Exp": "math.exp", "Tanh": "math.tanh", "Log": "math.log", "Sqrt": "math.sqrt"}
#: Pow exponents worth strength-reducing (NumPy ``x**3`` is a libm pow call).
_SMALL_POWERS = {1.0: "{0}", 2.0: "({0} * {0})", 3.0: "({0} * {0} * {0})",
                 4.0: "(({0} * {0}) * ({0} * {0}))", 0.5: "math.sqrt({0})"}


class ScalarContext(Protocol):
    fastmath: int

    def const(self, value, dtype: np.dtype) -> str:
        """A module global holding ``value`` as a scalar of ``dtype``."""

    def literal_of(self, arg: str):
        """The Python value of an argument that is an inlined constant, else None."""

    def is_nonpositive(self, arg: str) -> bool:
        """Whether the argument is known to be <= 0 or NaN, up to rounding (``x - max(x)``)."""


def ctor(dtype: np.dtype) -> str:
    """The numba-visible scalar constructor of a dtype."""
    return "np.bool_" if dtype == np.bool_ else f"np.{np.dtype(dtype).name}"


def cast(expr: str, dtype: np.dtype) -> str:
    return f"{ctor(dtype)}({expr})"


@singledispatch
def scalar_expr(op: Op, args: Sequence[str], in_dtypes, out_dtype, ctx: ScalarContext) -> str:
    """The expression computing one element of ``op``'s output."""
    raise NotImplementedError(f"no scalar lowering for {op.name}")


def cast_if(expr: str, dtype, to) -> str:
    """``expr`` as ``to``, without a cast when it already is."""
    return expr if np.dtype(dtype) == np.dtype(to) else cast(expr, to)


def result(expr: str, dtype) -> str:
    """Float arithmetic on equal float types stays in that type in numba; ints widen."""
    return expr if np.dtype(dtype) in FLOAT_DTYPES else cast(expr, dtype)


@scalar_expr.register
def _(op: E.Elementwise, args, in_dtypes, out_dtype, ctx):
    # Promote the operands first, then apply the op's own scalar template.
    return result(op.scalar_expr(*(cast_if(a, d, out_dtype) for a, d in zip(args, in_dtypes))), out_dtype)


@scalar_expr.register(E.Copy)
def _(op, args, in_dtypes, out_dtype, ctx):
    return cast(args[0], out_dtype)


@scalar_expr.register(E.Relu)
def _(op, args, in_dtypes, out_dtype, ctx):
    return f"np.maximum({args[0]}, {ctx.const(0, out_dtype)})"


@scalar_expr.register(E._Extremum)
def _(op, args, in_dtypes, out_dtype, ctx):
    fn = {"Max": "np.maximum", "Min": "np.minimum"}.get(op.name)
    expr = cast_if(args[0], in_dtypes[0], out_dtype)
    for a, d in zip(args[1:], in_dtypes[1:]):
        b = cast_if(a, d, out_dtype)
        expr = f"{fn}({expr}, {b})" if fn else f"({expr} + {b})"
    return result(expr, out_dtype)


@scalar_expr.register(E.Compare)
def _(op, args, in_dtypes, out_dtype, ctx):
    return op.scalar_expr(*args)


@scalar_expr.register(E.Where)
def _(op, args, in_dtypes, out_dtype, ctx):
    return f"({cast_if(args[1], in_dtypes[1], out_dtype)} if {args[0]} else {cast_if(args[2], in_dtypes[2], out_dtype)})"


@scalar_expr.register(E.Cast)
def _(op, args, in_dtypes, out_dtype, ctx):
    if out_dtype == np.bool_:
        return f"({args[0]} != 0)"
    return cast(args[0], out_dtype)


@scalar_expr.register(E.UnaryFloat)
def _(op, args, in_dtypes, out_dtype, ctx):
    x = cast_if(args[0], in_dtypes[0], out_dtype)
    if ctx.fastmath >= 1 and out_dtype == np.float32 and op.name in _FAST_F32:
        if op.name == "Exp" and ctx.is_nonpositive(x):    # cannot overflow
            return f"fexp_capped({x})"
        return f"{_FAST_F32[op.name]}({x})"
    if op.name == "Sigmoid":
        one = ctx.const(1, out_dtype)
        return cast(f"{one} / ({one} + math.exp(-{x}))", out_dtype)
    return cast(f"{_LIBM[op.name]}({x})", out_dtype)


@scalar_expr.register(E.Pow)
def _(op, args, in_dtypes, out_dtype, ctx):
    base = cast_if(args[0], in_dtypes[0], out_dtype)
    k = ctx.literal_of(args[1])
    if k is not None and out_dtype in FLOAT_DTYPES and float(k) in _SMALL_POWERS:
        return cast(_SMALL_POWERS[float(k)].format(base), out_dtype)
    return cast(f"{base} ** {cast_if(args[1], in_dtypes[1], out_dtype)}", out_dtype)
