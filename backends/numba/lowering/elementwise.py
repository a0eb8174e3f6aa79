"""Elementwise ops as scalar expressions: one table keyed by op class.

A loop group computes each element of an elementwise op with the op's
*scalar form*: ``SCALAR_FORMS[type(op)](op, args, in_dtypes, out_dtype, ctx)``
returns a numba-typed Python expression over the operands' expressions
``args``. Operands are converted to the output dtype first (NumPy's
promotion), except by comparisons, which compare in the operands' types.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from netjit.compiler.ops import Op
from netjit.compiler.ops import elementwise as E
from netjit.compiler.ops import logical as L
from netjit.compiler.ops.types import FLOAT_DTYPES

from .base import ScalarContext, ScalarForm, cast, cast_if, result

#: Pow exponents worth strength-reducing (NumPy ``x**3`` is a libm pow call).
_SMALL_POWERS = {1.0: "{0}", 2.0: "({0} * {0})", 3.0: "({0} * {0} * {0})",
                 4.0: "(({0} * {0}) * ({0} * {0}))", 0.5: "math.sqrt({0})"}


def _promoted(template: str) -> ScalarForm:
    """``template`` over the operands converted to the output dtype."""
    def form(op, args, in_dtypes, out_dtype, ctx):
        return result(template.format(*(cast_if(a, d, out_dtype) for a, d in zip(args, in_dtypes))), out_dtype)
    return form


def _compared(template: str) -> ScalarForm:
    """``template`` over the operands as they are: numba compares mixed types as NumPy does."""
    def form(op, args, in_dtypes, out_dtype, ctx):
        return template.format(*args)
    return form


def _folded(template: str) -> ScalarForm:
    """An n-ary op as a left fold of the binary ``template`` (Caffe2's Max, Min, Sum)."""
    def form(op, args, in_dtypes, out_dtype, ctx):
        expr = cast_if(args[0], in_dtypes[0], out_dtype)
        for a, d in zip(args[1:], in_dtypes[1:]):
            expr = template.format(expr, cast_if(a, d, out_dtype))
        return result(expr, out_dtype)
    return form


def _fast_f32(ctx: ScalarContext, out_dtype) -> bool:
    """Whether float32 math uses ``mathlib``'s vectorisable approximations."""
    return ctx.fastmath >= 1 and out_dtype == np.float32


def _libm(fn: str, fast: Optional[str] = None) -> ScalarForm:
    """A transcendental function: libm's ``fn``, or ``mathlib``'s ``fast`` for float32 at fast-math."""
    def form(op, args, in_dtypes, out_dtype, ctx):
        x = cast_if(args[0], in_dtypes[0], out_dtype)
        if fast and _fast_f32(ctx, out_dtype):
            return f"{fast}({x})"
        return cast(f"{fn}({x})", out_dtype)
    return form


def _exp(op, args, in_dtypes, out_dtype, ctx):
    x = cast_if(args[0], in_dtypes[0], out_dtype)
    if _fast_f32(ctx, out_dtype):    # x - max(x) cannot overflow: no range check
        return f"fexp_capped({x})" if ctx.is_nonpositive(x) else f"fexp({x})"
    return cast(f"math.exp({x})", out_dtype)


def _sigmoid(op, args, in_dtypes, out_dtype, ctx):
    x = cast_if(args[0], in_dtypes[0], out_dtype)
    if _fast_f32(ctx, out_dtype):
        return f"fsigmoid({x})"
    one = ctx.const(1, out_dtype)
    return cast(f"{one} / ({one} + math.exp(-{x}))", out_dtype)


def _copy(op, args, in_dtypes, out_dtype, ctx):
    return cast(args[0], out_dtype)


def _relu(op, args, in_dtypes, out_dtype, ctx):
    # np.maximum, not max(): NaN propagates, as NumPy's reference does
    return f"np.maximum({args[0]}, {ctx.const(0, out_dtype)})"


def _pow(op, args, in_dtypes, out_dtype, ctx):
    base = cast_if(args[0], in_dtypes[0], out_dtype)
    k = ctx.literal_of(args[1])
    if k is not None and out_dtype in FLOAT_DTYPES and float(k) in _SMALL_POWERS:
        return cast(_SMALL_POWERS[float(k)].format(base), out_dtype)
    return cast(f"{base} ** {cast_if(args[1], in_dtypes[1], out_dtype)}", out_dtype)


def _where(op, args, in_dtypes, out_dtype, ctx):
    a, b = (cast_if(args[i], in_dtypes[i], out_dtype) for i in (1, 2))
    return f"({a} if {args[0]} else {b})"


def _cast(op, args, in_dtypes, out_dtype, ctx):
    if out_dtype == np.bool_:    # NumPy's astype(bool): NaN is true
        return f"({args[0]} != 0)"
    return cast(args[0], out_dtype)


#: op class -> its scalar form; a class not listed takes the entry of its nearest base.
SCALAR_FORMS: dict[type, ScalarForm] = {
    # unary
    E.Copy: _copy,
    E.Neg: _promoted("(-{0})"),
    E.Abs: _promoted("abs({0})"),
    E.Relu: _relu,
    E.Exp: _exp,
    E.Log: _libm("math.log"),
    E.Sqrt: _libm("math.sqrt"),
    E.Tanh: _libm("math.tanh", fast="ftanh"),
    E.Sigmoid: _sigmoid,
    E.Cast: _cast,
    # binary arithmetic
    E.Add: _promoted("({0} + {1})"),
    E.Sub: _promoted("({0} - {1})"),
    E.Mul: _promoted("({0} * {1})"),
    E.Div: _promoted("({0} / {1})"),
    E.Pow: _pow,
    # n-ary
    E.Max: _folded("np.maximum({0}, {1})"),
    E.Min: _folded("np.minimum({0}, {1})"),
    E.Sum: _folded("({0} + {1})"),
    # comparisons and selection
    E.LT: _compared("({0} < {1})"),
    E.LE: _compared("({0} <= {1})"),
    E.GT: _compared("({0} > {1})"),
    E.GE: _compared("({0} >= {1})"),
    E.EQ: _compared("({0} == {1})"),
    E.Where: _where,
    # logical (bool operands)
    L.Not: _promoted("(not {0})"),
    L.And: _promoted("({0} and {1})"),
    L.Or: _promoted("({0} or {1})"),
}


def scalar_form(cls: type) -> Optional[ScalarForm]:
    """The scalar form of op class ``cls`` (through its bases), or None."""
    return next((SCALAR_FORMS[c] for c in cls.__mro__ if c in SCALAR_FORMS), None)


def has_scalar_form(cls: type) -> bool:
    """Whether loop groups can compute op class ``cls`` from the table."""
    return scalar_form(cls) is not None


def register_scalar_form(cls: type, template: str) -> None:
    """Give an elementwise op defined outside netjit (a plugin's) its numba form: a
    Python expression over ``{0}, {1}...`` computed in the promoted dtype."""
    SCALAR_FORMS[cls] = _promoted(template)


def scalar_expr(op: Op, args: Sequence[str], in_dtypes, out_dtype, ctx: ScalarContext) -> str:
    """The expression computing one element of ``op``'s output."""
    form = scalar_form(type(op))
    if form is None:
        raise NotImplementedError(f"no scalar lowering for {op.name}")
    return form(op, args, in_dtypes, out_dtype, ctx)
