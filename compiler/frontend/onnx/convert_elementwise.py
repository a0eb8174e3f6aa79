"""Converters of ONNX's elementwise ops: math, comparisons, logic, casts and activations.

    Sin(x) -> Sin(x)                    Equal(a, b) -> EQ(a, b)
    Div(i32 a, i32 b) -> TruncDiv(a, b) Div(f32 a, f32 b) -> Div(a, b)
    Pow(i32 x, f32 y) -> Cast(Pow(x, y), to=i32)      (ONNX: the result has x's dtype)
    Clip(x, lo, hi) -> Min(Max(x, lo), hi)            Mean(a, b) -> Div(Sum(a, b), 2)
    Reciprocal(x) -> Div(1, x)          Dropout(x) -> Copy(x) (+ an all-true mask)
    Dropout(x, ratio, training_mode not constant) -> DropoutTraining (checked at run time)

The ops whose ONNX meaning is NumPy's (Add, Relu, Exp, ...) are in
``convert_basic``. An attribute a converter does not know is refused, except
``consumed_inputs`` (an opset-1 memory hint that changes no value).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import onnx

from netjit.errors import UnimplementedError

from ... import ops as O
from ...ops import activations as A
from ...ops import activations_smooth as AS
from ...ops import bitwise as B
from ...ops import scalar_math as M
from ...ops import training as T
from .converters import NodeContext, onnx_op
from .proto import onnx_dtype

#: Attributes that change no value, whichever op carries them.
_HARMLESS = frozenset({"consumed_inputs"})

#: ONNX op -> netjit op class; the ONNX attributes are the op's fields, by name.
_DIRECT = {
    "Acos": M.Acos, "Acosh": M.Acosh, "Asin": M.Asin, "Asinh": M.Asinh, "Atan": M.Atan, "Atanh": M.Atanh,
    "Cos": M.Cos, "Cosh": M.Cosh, "Sin": M.Sin, "Sinh": M.Sinh, "Tan": M.Tan, "Erf": M.Erf,
    "Ceil": M.Ceil, "Floor": M.Floor, "Round": M.Round, "Sign": M.Sign, "IsNaN": M.IsNaN,
    "BitwiseAnd": B.BitwiseAnd, "BitwiseOr": B.BitwiseOr, "BitwiseXor": B.BitwiseXor,
    "BitwiseNot": B.BitwiseNot, "Not": O.Not,
    "Elu": A.Elu, "Selu": A.Selu, "Celu": A.Celu, "LeakyRelu": A.LeakyRelu, "PRelu": A.PRelu,
    "ThresholdedRelu": A.ThresholdedRelu, "HardSigmoid": A.HardSigmoid, "HardSwish": A.HardSwish,
    "Shrink": A.Shrink, "Softplus": AS.Softplus, "Softsign": AS.Softsign, "Mish": AS.Mish,
    "Gelu": AS.Gelu,
    # n-ary, broadcasting (opsets before 8 required equal shapes: a subset)
    "Max": O.Max, "Min": O.Min, "Sum": O.Sum, "Where": O.Where,
}

#: Binary ONNX ops that took ``broadcast``/``axis`` before opset 7 -> netjit op class.
_BINARY = {"Equal": O.EQ, "Less": O.LT, "Greater": O.GT, "LessOrEqual": O.LE, "GreaterOrEqual": O.GE,
           "And": O.And, "Or": O.Or, "Xor": B.Xor}


def op_from_attrs(ctx: NodeContext, cls: type, ignore: frozenset = frozenset()) -> O.Op:
    """``cls`` with its fields from the node's attributes of the same names; any other
    attribute, unless harmless or in ``ignore`` (handled by the caller), is refused."""
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(ctx.attrs) - fields - _HARMLESS - ignore)
    if unknown:
        raise ctx.unsupported(f"attributes {unknown} are not supported")
    return cls(**{k: v for k, v in ctx.attrs.items() if k in fields})


def _direct(cls):
    def convert(ctx: NodeContext) -> None:
        ctx.emit(op_from_attrs(ctx, cls), ctx.inputs())
    convert.__doc__ = f"-> {cls.__name__}"
    return convert


_LEGACY_BROADCAST = frozenset({"broadcast", "axis"})


def legacy_broadcast(ctx: NodeContext) -> None:
    """Before opset 7, ``broadcast=1`` aligned B's dims with A's at ``axis``; without
    ``axis`` that is NumPy's trailing alignment, with it netjit has no equivalent."""
    if ctx.opset < 7 and ctx.attr("broadcast", 0) and ctx.attr("axis", None) is not None:
        raise ctx.unsupported("broadcasting along 'axis' (before opset 7)")


def _binary(cls):
    def convert(ctx: NodeContext) -> None:
        legacy_broadcast(ctx)
        ctx.emit(op_from_attrs(ctx, cls, ignore=_LEGACY_BROADCAST), ctx.inputs())
    convert.__doc__ = f"-> {cls.__name__} (NumPy broadcasting)"
    return convert


for _name, _cls in _DIRECT.items():
    onnx_op(_name)(_direct(_cls))
for _name, _cls in _BINARY.items():
    onnx_op(_name)(_binary(_cls))


def dtype_of(ctx: NodeContext, i: int) -> np.dtype:
    """The dtype of input ``i`` (the net infers every blob's dtype)."""
    t = ctx.type(i)
    if t is None:
        raise ctx.unsupported(f"the dtype of input {i} is unknown")
    return t.dtype


def scalar_const(ctx: NodeContext, hint: str, value, dtype) -> str:
    """A new constant blob holding the scalar ``value`` as ``dtype``."""
    return ctx.set_const(ctx.fresh(hint), np.asarray(value, dtype=dtype))


# -- arithmetic with ONNX's own dtype rules ----------------------------------------------
@onnx_op("Div", since=7)
def div(ctx: NodeContext) -> None:
    """Floats divide as NumPy; ints truncate toward zero (C), not to float."""
    a, b = ctx.inputs()
    op = O.Div() if dtype_of(ctx, 0).kind == "f" else M.TruncDiv()
    ctx.emit(op, [a, b])


@onnx_op("Pow", since=7)
def pow_(ctx: NodeContext) -> None:
    """Pow(x, y) has x's dtype: computed in NumPy's promotion of both, then cast back."""
    x, y = ctx.inputs()
    dt = dtype_of(ctx, 0)
    if np.result_type(dt, dtype_of(ctx, 1)) == dt:
        ctx.emit(O.Pow(), [x, y])
        return
    (p,) = ctx.emit(O.Pow(), [x, y], [ctx.fresh("pow")])
    ctx.emit(O.Cast(dt), [p])


@onnx_op("Mod", since=10)
def mod(ctx: NodeContext) -> None:
    """fmod=0: the divisor's sign (Python's %); fmod=1: the dividend's (C fmod)."""
    ctx.emit(M.Mod(fmod=bool(ctx.attr("fmod", 0))), ctx.inputs())


@onnx_op("BitShift", since=11)
def bitshift(ctx: NodeContext) -> None:
    ctx.emit(B.BitShift(ctx.attr("direction")), ctx.inputs())


@onnx_op("Reciprocal")
def reciprocal(ctx: NodeContext) -> None:
    """Reciprocal(x) -> Div(1, x), the 1 in x's dtype."""
    one = scalar_const(ctx, "one", 1, dtype_of(ctx, 0))
    ctx.emit(O.Div(), [one, ctx.input(0)])


@onnx_op("Mean")
def mean(ctx: NodeContext) -> None:
    """Mean(x...) -> Div(Sum(x...), n): ONNX's definition, a sum then one division."""
    ins = ctx.inputs()
    (total,) = ctx.emit(O.Sum(), ins, [ctx.fresh("sum")])
    ctx.emit(O.Div(), [total, scalar_const(ctx, "count", len(ins), dtype_of(ctx, 0))])


@onnx_op("IsInf", since=10)
def isinf(ctx: NodeContext) -> None:
    ctx.emit(M.IsInf(bool(ctx.attr("detect_positive", 1)), bool(ctx.attr("detect_negative", 1))), ctx.inputs())


# -- Clip ----------------------------------------------------------------------------
@onnx_op("Clip")
def clip_attrs(ctx: NodeContext) -> None:
    """Before opset 11 the bounds are float attributes (default unbounded)."""
    dt = dtype_of(ctx, 0)
    bounds = [scalar_const(ctx, k, ctx.attrs[k], dt) if k in ctx.attrs else None for k in ("min", "max")]
    _clip(ctx, ctx.input(0), *bounds)


@onnx_op("Clip", since=11)
def clip_inputs(ctx: NodeContext) -> None:
    """From opset 11 the bounds are optional scalar inputs of x's dtype."""
    _clip(ctx, ctx.input(0), ctx.input(1), ctx.input(2))


def _clip(ctx: NodeContext, x: str, lo, hi) -> None:
    """Min(Max(x, lo), hi): NumPy's clip, so lo > hi gives hi everywhere and NaN stays."""
    if lo is None and hi is None:
        ctx.emit(O.Copy(), [x])
        return
    if lo is not None:
        (x,) = ctx.emit(O.Max(), [x, lo], None if hi is None else [ctx.fresh("clipped_below")])
    if hi is not None:
        ctx.emit(O.Min(), [x, hi])


# -- casts ----------------------------------------------------------------------------
def _cast_target(ctx: NodeContext, elem_type: int) -> np.dtype:
    try:
        return onnx_dtype(elem_type, "target type 'to'")
    except UnimplementedError as exc:
        raise ctx.unsupported(str(exc)) from None


@onnx_op("Cast")
def cast(ctx: NodeContext) -> None:
    """Cast(x, to) -> Cast(x) (NumPy astype: floats to ints truncate). ``saturate``
    concerns float8 targets only, which netjit refuses, so it changes nothing here."""
    to = ctx.attr("to")
    if isinstance(to, str):  # opset 1 named the type: "FLOAT"
        to = onnx.TensorProto.DataType.Value(to)
    ctx.emit(O.Cast(_cast_target(ctx, to)), [ctx.input(0)])


@onnx_op("CastLike", since=15)
def cast_like(ctx: NodeContext) -> None:
    """CastLike(x, like) -> Cast(x) to like's dtype (``saturate`` as for Cast)."""
    ctx.emit(O.Cast(dtype_of(ctx, 1)), [ctx.input(0)])


# -- Dropout (inference) -------------------------------------------------------------
@onnx_op("Dropout")
def dropout(ctx: NodeContext) -> None:
    """Inference: y = x and the mask all true (x's dtype before opset 10, bool after).

    Training (``is_test=0`` before opset 7, ``training_mode`` true from opset 12)
    draws random masks: refused, except with a ratio of 0, where it is the
    identity too. A training_mode or ratio known only at run time goes to
    ``DropoutTraining``, which checks them when it runs (and raises for
    training with a ratio above 0).
    """
    if ctx.opset < 7 and not ctx.attr("is_test", 0):
        raise ctx.unsupported("training mode (is_test=0): random masks")
    if ctx.num_inputs() > 2:
        training = ctx.const(2)
        ratio = ctx.const(1) if ctx.input(1) else np.float32(0.5)
        if training is not None and bool(training) and ratio is not None and float(ratio) != 0.0:
            raise ctx.unsupported("training_mode=true with a nonzero ratio: random masks")
        if training is None or (bool(training) and ratio is None):
            _dropout_at_run_time(ctx)
            return
    ctx.emit(O.Copy(), [ctx.input(0)], [ctx.output(0)])
    if ctx.output(1):
        _all_true(ctx, ctx.input(0), ctx.output(1), bool if ctx.opset >= 10 else dtype_of(ctx, 0))


def _dropout_at_run_time(ctx: NodeContext) -> None:
    """DropoutTraining(x, ratio, training_mode): ratio 0.5 (the default) when omitted."""
    ratio = ctx.input(1)
    if ratio is None:
        ratio = ctx.set_const(ctx.fresh("ratio"), np.asarray(0.5, dtype_of(ctx, 0)))
    outs = [ctx.output(0), ctx.output(1) or ctx.fresh("mask")]
    ctx.emit(T.DropoutTraining(), [ctx.input(0), ratio, ctx.input(2)], outs)


def _all_true(ctx: NodeContext, x: str, out: str, dtype) -> None:
    """``out`` of x's shape, all true (ones): EQ(c, c) of c = Cast(x, bool), true even for NaN."""
    (c,) = ctx.emit(O.Cast(np.dtype(bool)), [x], [ctx.fresh("as_bool")])
    if np.dtype(dtype) == np.bool_:
        ctx.emit(O.EQ(), [c, c], [out])
        return
    (t,) = ctx.emit(O.EQ(), [c, c], [ctx.fresh("true")])
    ctx.emit(O.Cast(dtype), [t], [out])
