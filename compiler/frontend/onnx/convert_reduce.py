"""Converters of ONNX's reductions: ``axes`` as an attribute, or as an input (ReduceSum from
opset 13, the others from 18), and ``noop_with_empty_axes``.

    ReduceL2(x, axes=[1])           -> ReduceL2(axes=(1,))(x)
    ReduceSum(x, axes) at run time  -> ReduceAxes("ReduceSum")(x, axes)
    ReduceMax(b: bool)              -> GT(ReduceMax(Cast(i32)(b)), 0)         (max of 0/1 is "any")
    ReduceMin(b: bool)              -> Cast(bool)(ReduceMin(Cast(i32)(b)))   (empty: int32's max, True)
    ReduceMean(i: int32)            -> Cast(i32)(ReduceMean(i))              (ONNX keeps the dtype)
"""
from __future__ import annotations

import numpy as np

from ... import ops as O
from ...ops.reduction_more import ReduceAxes
from .converters import NodeContext, onnx_op

#: ONNX reduction -> the opset from which ``axes`` is an input.
AXES_INPUT_SINCE = {"ReduceSum": 13, "ReduceMean": 18, "ReduceMax": 18, "ReduceMin": 18, "ReduceProd": 18,
                    "ReduceL1": 18, "ReduceL2": 18, "ReduceLogSum": 18, "ReduceLogSumExp": 18,
                    "ReduceSumSquare": 18}
_MISSING = object()


def _reduce(ctx: NodeContext, name: str, axes) -> None:
    """``axes`` is a tuple, None (not given) or _MISSING (an input known only at run time)."""
    keepdims, noop = bool(ctx.attr("keepdims", 1)), bool(ctx.attr("noop_with_empty_axes", 0))
    x, t = ctx.input(0), ctx.type(0)
    if axes is not _MISSING and not axes:
        if noop:
            ctx.emit(O.Copy(), [x])
            return
        axes = None
    dtype = None if t is None else t.dtype
    compute = np.dtype(np.int32) if dtype == np.bool_ and name in ("ReduceMax", "ReduceMin") else None
    if compute is not None:
        x = ctx.emit(O.Cast(compute), [x], [ctx.fresh("as_int")])[0]
    if axes is _MISSING:
        op = ReduceAxes(name, keepdims, noop)
        inputs = [x, ctx.input(1)]
    else:
        op = O.OP_REGISTRY[name](axes=axes, keepdims=keepdims)
        inputs = [x]
    result = op.infer(*[ctx.net.blob_type(b) for b in inputs])[0].dtype if dtype is not None else None
    if compute is not None and name == "ReduceMax":   # the max of nothing is False, not int32's minimum
        out = ctx.emit(op, inputs, [ctx.fresh("reduced")])[0]
        ctx.emit(O.GT(), [out, ctx.set_const(ctx.fresh("zero"), np.zeros((), compute))])
        return
    if dtype is not None and result != dtype:
        out = ctx.emit(op, inputs, [ctx.fresh("reduced")])[0]
        ctx.emit(O.Cast(dtype), [out])
        return
    ctx.emit(op, inputs)


def _axes_attribute(name: str):
    def convert(ctx: NodeContext) -> None:
        axes = ctx.attr("axes", None)
        _reduce(ctx, name, None if axes is None else tuple(int(a) for a in axes))
    return convert


def _axes_input(name: str):
    def convert(ctx: NodeContext) -> None:
        if ctx.input(1) is None:
            axes = None
        elif ctx.const(1) is not None:
            axes = tuple(int(a) for a in ctx.const(1).reshape(-1))
        else:
            axes = _MISSING
        _reduce(ctx, name, axes)
    return convert


for _name, _since in AXES_INPUT_SINCE.items():
    onnx_op(_name)(_axes_attribute(_name))
    onnx_op(_name, since=_since)(_axes_input(_name))
