"""Converters of ONNX's shape and tensor ops (indexing, reductions and Resize in their own modules).

    Shape(x) of a static x -> a known constant    Reshape(x, [2, -1]) -> Reshape(shape=(2, -1))
    Slice(x, starts, ...)  -> Slice(...)          Reshape(x, s), s known at run time
                                                    -> FromInputs(Reshape(), ("shape",))(x, s)
"""
from __future__ import annotations

import numpy as np

from ... import ops as O
from ...ops.generators import ConstantOfShape, EyeLike, Range
from ...ops.tensor import Expand, Flatten, Shape, Size, Squeeze, Tile, Trilu, \
    Unsqueeze
from ...ops.tensor_layout import DepthToSpace, Pad, ReshapeAllowZero, ReverseSequence, SpaceToDepth
from . import convert_indexing, convert_reduce, convert_resize  # noqa: F401  (the family's other converters)
from .converters import NodeContext, onnx_op
from .param_inputs import emit_with_params, length_of, rank_of
from .proto import onnx_dtype


@onnx_op("Shape")
def shape(ctx: NodeContext) -> None:
    """Shape(x)[start:end]: a constant when those dims are static."""
    op = Shape(ctx.attr("start", 0), ctx.attr("end", None))
    t = ctx.type(0)
    if t is not None and t.shape is not None and None not in t.shape[op.start:op.end]:
        ctx.set_const(ctx.output(0), np.array(t.shape[op.start:op.end], np.int64))
        return
    ctx.emit(op, [ctx.input(0)])


@onnx_op("Size")
def size(ctx: NodeContext) -> None:
    t = ctx.type(0)
    if t is not None and t.is_static:
        ctx.set_const(ctx.output(0), np.array(int(np.prod(t.shape, dtype=np.int64)), np.int64))
        return
    ctx.emit(Size(), [ctx.input(0)])


@onnx_op("Reshape")
def reshape_1(ctx: NodeContext) -> None:
    ctx.emit(O.Reshape(tuple(ctx.attr("shape"))), [ctx.input(0)])


@onnx_op("Reshape", since=5)
def reshape(ctx: NodeContext) -> None:
    """0 copies the input's dim unless allowzero; an allowzero 0 is a zero dim."""
    allowzero, shape = bool(ctx.attr("allowzero", 0)), ctx.const(1)
    zero = allowzero and (shape is None or 0 in shape)
    op = ReshapeAllowZero() if zero else O.Reshape()
    emit_with_params(ctx, op, [ctx.input(0)], {"shape": 1}, rank=length_of(ctx, 1))


@onnx_op("Expand", since=8)
def expand(ctx: NodeContext) -> None:
    n, r = length_of(ctx, 1), rank_of(ctx, 0)
    emit_with_params(ctx, Expand(), [ctx.input(0)], {"shape": 1}, rank=None if None in (n, r) else max(n, r))


@onnx_op("Flatten")
def flatten(ctx: NodeContext) -> None:
    ctx.emit(Flatten(ctx.attr("axis", 1)), [ctx.input(0)])


@onnx_op("Squeeze")
def squeeze_1(ctx: NodeContext) -> None:
    axes = ctx.attr("axes", None)
    ctx.emit(Squeeze(None if axes is None else tuple(axes)), [ctx.input(0)])


@onnx_op("Squeeze", since=13)
def squeeze(ctx: NodeContext) -> None:
    n, r = length_of(ctx, 1), rank_of(ctx, 0)
    emit_with_params(ctx, Squeeze(), [ctx.input(0)], {"axes": 1}, rank=None if None in (n, r) else r - n)


@onnx_op("Unsqueeze")
def unsqueeze_1(ctx: NodeContext) -> None:
    ctx.emit(Unsqueeze(tuple(ctx.attr("axes"))), [ctx.input(0)])


@onnx_op("Unsqueeze", since=13)
def unsqueeze(ctx: NodeContext) -> None:
    n, r = length_of(ctx, 1), rank_of(ctx, 0)
    emit_with_params(ctx, Unsqueeze(), [ctx.input(0)], {"axes": 1}, rank=None if None in (n, r) else r + n)


@onnx_op("Concat")
def concat(ctx: NodeContext) -> None:
    ctx.emit(O.Concat(axis=ctx.attr("axis", 0)), ctx.inputs())


def _split(ctx: NodeContext, split) -> None:
    axis, n = ctx.attr("axis", 0), len(ctx.node.output)
    outs = [ctx.output(i) or ctx.fresh(f"unused{i}") for i in range(n)]
    if split is not None:
        ctx.emit(O.Split(axis, split=tuple(int(s) for s in split)), [ctx.input(0)], outs)
        return
    num = ctx.attr("num_outputs", None)
    t = ctx.type(0)
    dim = None if t is None or t.shape is None else t.shape[axis % len(t.shape)]
    if num is not None and dim is not None and dim % num:
        # ONNX 18: parts of ceil(dim / num), the last one smaller
        part = -(-dim // num)
        sizes = [part] * (num - 1) + [dim - part * (num - 1)]
        if min(sizes) < 0:
            raise ctx.unsupported(f"num_outputs={num} does not split a dim of {dim}")
        ctx.emit(O.Split(axis, split=tuple(sizes)), [ctx.input(0)], outs)
        return
    ctx.emit(O.Split(axis, num=n), [ctx.input(0)], outs)


@onnx_op("Split")
def split_1(ctx: NodeContext) -> None:
    _split(ctx, ctx.attr("split", None))


@onnx_op("Split", since=13)
def split(ctx: NodeContext) -> None:
    if ctx.input(1) is None or ctx.const(1) is not None:
        _split(ctx, ctx.const(1))
        return
    n = len(ctx.node.output)
    outs = [ctx.output(i) or ctx.fresh(f"unused{i}") for i in range(n)]
    emit_with_params(ctx, O.Split(ctx.attr("axis", 0), num=n), [ctx.input(0)], {"split": 1},
                     rank=rank_of(ctx, 0), outputs=outs)


@onnx_op("Slice")
def slice_1(ctx: NodeContext) -> None:
    axes = ctx.attr("axes", None)
    ctx.emit(O.Slice(tuple(ctx.attr("starts")), tuple(ctx.attr("ends")), None if axes is None else tuple(axes)),
             [ctx.input(0)])


@onnx_op("Slice", since=10)
def slice_(ctx: NodeContext) -> None:
    emit_with_params(ctx, O.Slice(), [ctx.input(0)], {"starts": 1, "ends": 2, "axes": 3, "steps": 4},
                     rank=rank_of(ctx, 0))


@onnx_op("Transpose")
def transpose(ctx: NodeContext) -> None:
    perm = ctx.attr("perm", None)
    ctx.emit(O.Transpose(None if perm is None else tuple(perm)), [ctx.input(0)])


@onnx_op("Tile", since=6)
def tile(ctx: NodeContext) -> None:
    emit_with_params(ctx, Tile(), [ctx.input(0)], {"repeats": 1}, rank=rank_of(ctx, 0))


@onnx_op("Pad", since=2)
def pad_2(ctx: NodeContext) -> None:
    ctx.emit(Pad(tuple(ctx.attr("pads")), ctx.attr("mode", "constant"), float(ctx.attr("value", 0.0))),
             [ctx.input(0)])


@onnx_op("Pad", since=11)
def pad(ctx: NodeContext) -> None:
    emit_with_params(ctx, Pad(mode=ctx.attr("mode", "constant")), [ctx.input(0)],
                     {"pads": 1, "value": 2, "axes": 3}, rank=rank_of(ctx, 0))


@onnx_op("Range", since=11)
def range_(ctx: NodeContext) -> None:
    t = ctx.type(0)
    emit_with_params(ctx, Range(dtype=t.dtype), [], {"start": 0, "limit": 1, "delta": 2}, rank=1)


@onnx_op("ConstantOfShape", since=9)
def constant_of_shape(ctx: NodeContext) -> None:
    value = ctx.attr("value", None)
    op = ConstantOfShape() if value is None else ConstantOfShape(value=O.ConstValue(np.asarray(value).reshape(1)))
    emit_with_params(ctx, op, [], {"shape": 0}, rank=length_of(ctx, 0))


@onnx_op("EyeLike", since=9)
def eye_like(ctx: NodeContext) -> None:
    dtype = ctx.attr("dtype", None)
    where = f"ONNX node {ctx.name!r} (EyeLike) attribute 'dtype'"
    ctx.emit(EyeLike(ctx.attr("k", 0), None if dtype is None else onnx_dtype(dtype, where)), [ctx.input(0)])


@onnx_op("Trilu", since=14)
def trilu(ctx: NodeContext) -> None:
    emit_with_params(ctx, Trilu(bool(ctx.attr("upper", 1))), [ctx.input(0)], {"k": 1}, rank=rank_of(ctx, 0))


@onnx_op("DepthToSpace")
def depth_to_space(ctx: NodeContext) -> None:
    ctx.emit(DepthToSpace(ctx.attr("blocksize"), ctx.attr("mode", "DCR")), [ctx.input(0)])


@onnx_op("SpaceToDepth")
def space_to_depth(ctx: NodeContext) -> None:
    ctx.emit(SpaceToDepth(ctx.attr("blocksize"), ctx.attr("mode", "DCR")), [ctx.input(0)])


@onnx_op("ReverseSequence", since=10)
def reverse_sequence(ctx: NodeContext) -> None:
    ctx.emit(ReverseSequence(ctx.attr("batch_axis", 1), ctx.attr("time_axis", 0)), ctx.inputs())
