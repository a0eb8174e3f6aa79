"""ONNX converters of the normalizations and of Softmax, LogSoftmax and Hardmax.

    BatchNormalization (inference)     -> BatchNormalization(epsilon)
    BatchNormalization training_mode=1 -> BatchNormalizationTraining(epsilon, momentum) (opset 14+)
    Instance/Layer/GroupNormalization  -> the op of that name (GroupNormalization-18's
                                          per-group scale/B repeated per channel)
    LRN                                -> LRN
    LpNormalization(p=1|2)             -> Abs|Mul(x,x) -> ReduceSum(axis) -> (Sqrt) -> Div (a 0 norm by 1)
    MeanVarianceNormalization(axes)    -> its ONNX function body: (X - E[X]) / (sqrt(E[X²] - E[X]²) + 1e-9)
    Softmax/LogSoftmax/Hardmax, opset 13+   -> the op along ``axis``
    ... before opset 13 (coerce to 2-D at ``axis``) -> Reshape [-1, inner] -> op(axis=-1) -> Reshape back
"""
from __future__ import annotations

import numpy as np

from ... import ops as O
from ...ops import normalization as N
from ...ops import softmax as S
from ...ops import training as T
from .converters import NodeContext, onnx_op

_STASH = {1: np.dtype(np.float32), 11: np.dtype(np.float64)}


def _x_dtype(ctx: NodeContext) -> np.dtype:
    t = ctx.type(0)
    if t is None:
        raise ctx.unsupported("the dtype of X is unknown")
    return t.dtype


def _scalar(ctx: NodeContext, hint: str, value: float) -> str:
    return ctx.set_const(ctx.fresh(hint), np.asarray(value, _x_dtype(ctx)))


def _outputs(ctx: NodeContext, n: int) -> list[str]:
    """The node's first ``n`` outputs, a fresh name for each one the model does not want."""
    return [ctx.output(i) or ctx.fresh(f"unused{i}") for i in range(n)]


@onnx_op("BatchNormalization")
def batch_normalization(ctx: NodeContext) -> None:
    """Inference: the statistics are inputs. training_mode=1 (opset 14+): batch statistics, and the
    running mean and var as outputs 1 and 2; the older training outputs are unsupported."""
    if int(ctx.attr("training_mode", 0)):
        if ctx.opset < 14:
            raise ctx.unsupported("training_mode before opset 14")
        op = T.BatchNormalizationTraining(epsilon=float(ctx.attr("epsilon", 1e-5)),
                                          momentum=float(ctx.attr("momentum", 0.9)))
        ctx.emit(op, ctx.inputs(), _outputs(ctx, 3))
        return
    if ctx.opset < 9 and int(ctx.attr("spatial", 1)) == 0:
        raise ctx.unsupported("spatial=0 (per-activation statistics) is not supported")
    if any(ctx.output(i) for i in range(1, len(ctx.node.output))):
        raise ctx.unsupported("the training outputs (mean, var, saved statistics) are not supported")
    ctx.emit(N.BatchNormalization(epsilon=float(ctx.attr("epsilon", 1e-5))), ctx.inputs(), [ctx.output(0)])


@onnx_op("InstanceNormalization")
def instance_normalization(ctx: NodeContext) -> None:
    ctx.emit(N.InstanceNormalization(epsilon=float(ctx.attr("epsilon", 1e-5))), ctx.inputs())


@onnx_op("LayerNormalization")
def layer_normalization(ctx: NodeContext) -> None:
    stash = int(ctx.attr("stash_type", 1))
    if stash not in _STASH:
        raise ctx.unsupported(f"stash_type {stash} (only float and double)")
    op = N.LayerNormalization(axis=int(ctx.attr("axis", -1)), epsilon=float(ctx.attr("epsilon", 1e-5)),
                              stash=_STASH[stash])
    ctx.emit(op, ctx.inputs(), _outputs(ctx, 3))


@onnx_op("GroupNormalization", since=18)
def group_normalization_18(ctx: NodeContext) -> None:
    """Opset 18 scales per group: repeat the (constant) scale and B for each group's channels."""
    groups = int(ctx.attr("num_groups"))
    x = ctx.type(0)
    channels = None if x is None or x.shape is None or len(x.shape) < 2 else x.shape[1]
    scale, bias = ctx.const(1), ctx.const(2)
    if channels is None or scale is None or bias is None:
        raise ctx.unsupported("opset-18 per-group scale and B need static channels and constant scale and B")
    per = channels // groups
    ins = [ctx.input(0), ctx.set_const(ctx.fresh("scale"), np.repeat(scale, per)),
           ctx.set_const(ctx.fresh("B"), np.repeat(bias, per))]
    ctx.emit(N.GroupNormalization(num_groups=groups, epsilon=float(ctx.attr("epsilon", 1e-5))), ins)


@onnx_op("GroupNormalization", since=21)
def group_normalization(ctx: NodeContext) -> None:
    if int(ctx.attr("stash_type", 1)) not in _STASH:
        raise ctx.unsupported(f"stash_type {ctx.attr('stash_type')} (only float and double)")
    op = N.GroupNormalization(num_groups=int(ctx.attr("num_groups")), epsilon=float(ctx.attr("epsilon", 1e-5)))
    ctx.emit(op, ctx.inputs())


@onnx_op("LRN")
def lrn(ctx: NodeContext) -> None:
    op = N.LRN(size=int(ctx.attr("size")), alpha=float(ctx.attr("alpha", 1e-4)),
               beta=float(ctx.attr("beta", 0.75)), bias=float(ctx.attr("bias", 1.0)))
    ctx.emit(op, [ctx.input(0)])


@onnx_op("LpNormalization")
def lp_normalization(ctx: NodeContext) -> None:
    p, axis, x = int(ctx.attr("p", 2)), int(ctx.attr("axis", -1)), ctx.input(0)
    if p not in (1, 2):
        raise ctx.unsupported(f"p={p} (the spec allows 1 and 2)")
    (mag,) = ctx.emit(O.Abs(), [x], [ctx.fresh("abs")]) if p == 1 else ctx.emit(O.Mul(), [x, x], [ctx.fresh("sq")])
    (norm,) = ctx.emit(O.ReduceSum(axes=(axis,)), [mag], [ctx.fresh("sum")])
    if p == 2:
        (norm,) = ctx.emit(O.Sqrt(), [norm], [ctx.fresh("norm")])
    # a zero norm means x is all zeros along the axis: divide by 1 to give 0, not NaN (as ONNX)
    (zero,) = ctx.emit(O.EQ(), [norm, _scalar(ctx, "zero", 0)], [ctx.fresh("is_zero")])
    (safe,) = ctx.emit(O.Where(), [zero, _scalar(ctx, "one", 1), norm], [ctx.fresh("safe_norm")])
    ctx.emit(O.Div(), [x, safe])


@onnx_op("MeanVarianceNormalization")
def mean_variance_normalization(ctx: NodeContext) -> None:
    x, axes = ctx.input(0), tuple(int(a) for a in ctx.attr("axes", (0, 2, 3)))
    (mean,) = ctx.emit(O.ReduceMean(axes=axes), [x], [ctx.fresh("mean")])
    (mean_sq,) = ctx.emit(O.Mul(), [mean, mean], [ctx.fresh("mean_sq")])
    (sq,) = ctx.emit(O.Mul(), [x, x], [ctx.fresh("sq")])
    (sq_mean,) = ctx.emit(O.ReduceMean(axes=axes), [sq], [ctx.fresh("sq_mean")])
    (var,) = ctx.emit(O.Sub(), [sq_mean, mean_sq], [ctx.fresh("var")])
    (std,) = ctx.emit(O.Sqrt(), [var], [ctx.fresh("std")])
    (den,) = ctx.emit(O.Add(), [std, _scalar(ctx, "epsilon", 1e-9)], [ctx.fresh("den")])
    (centered,) = ctx.emit(O.Sub(), [x, mean], [ctx.fresh("centered")])
    ctx.emit(O.Div(), [centered, den])


def _along_axis(op_cls):
    """Converters of a Softmax-like op: opset 13+ (one axis) and before (coerce to 2-D at axis)."""
    def convert_13(ctx: NodeContext) -> None:
        ctx.emit(op_cls(axis=int(ctx.attr("axis", -1))), [ctx.input(0)])

    def convert_1(ctx: NodeContext) -> None:
        t = ctx.type(0)
        if t is None or t.shape is None:
            raise ctx.unsupported("coercing to 2-D needs the rank of the input, which is unknown")
        rank, axis = len(t.shape), int(ctx.attr("axis", 1))
        if not -rank <= axis < rank:
            raise ctx.unsupported(f"axis {axis} is out of range for {t}")
        axis %= rank
        if axis == rank - 1:
            ctx.emit(op_cls(axis=-1), [ctx.input(0)])
            return
        inner, outer = t.shape[axis:], t.shape[:axis]
        if None in inner or outer.count(None) > 1:
            raise ctx.unsupported(f"coercing {t} to 2-D at axis {axis} needs static dims from the axis on "
                                  "and at most one unknown dim before it")
        (flat,) = ctx.emit(O.Reshape((-1, int(np.prod(inner)))), [ctx.input(0)], [ctx.fresh("2d")])
        (done,) = ctx.emit(op_cls(axis=-1), [flat], [ctx.fresh(op_cls.__name__)])
        ctx.emit(O.Reshape(tuple(-1 if d is None else d for d in t.shape)), [done])
    return convert_1, convert_13


for _cls in (O.Softmax, S.LogSoftmax, S.Hardmax):
    _old, _new = _along_axis(_cls)
    onnx_op(_cls.__name__, since=1)(_old)
    onnx_op(_cls.__name__, since=13)(_new)
