"""ONNX converters of the recent ops (``ops.modern_nn``, ``ops.modern_tensor``).

    RMSNormalization(stash_type float|double)  -> RMSNormalization(axis, epsilon)
    RotaryEmbedding                            -> RotaryEmbedding(interleaved, rotary_dim, num_heads)
    CausalConvWithState(x, w, [b], [past])     -> CausalConvWithState(activation, bias=, past=) over the given inputs
    Swish, SwiGLU                              -> the op of that name (alpha)
    CumProd(x, axis)                           -> CumProd(axis, exclusive, reverse), axis known or bound at run time
    BitCast(to)                                -> BitCast(to)
    Unique(axis, sorted)                       -> Unique (its four outputs, unwanted ones fresh)
    CenterCropPad(x, shape)                    -> CenterCropPad(shape, axes), shape known or bound at run time
    Det                                        -> Det
    Col2Im(x, image_shape, block_shape)        -> Col2Im(shapes, dilations, pads, strides), shapes known or bound at run time
    MaxUnpool(X, I[, output_shape])            -> MaxUnpool(kernel_shape, pads, strides[, output_shape])
"""
from __future__ import annotations

from netjit.errors import UnimplementedError

from ...ops import modern_nn as M
from ...ops import modern_image as G
from ...ops import modern_tensor as T
from .converters import NodeContext, onnx_op
from .param_inputs import emit_with_params, length_of, node_outputs, rank_of
from .proto import onnx_dtype

_STASH_TYPES = (1, 11)      # float, double: netjit computes the statistics in f64 either way


@onnx_op("RMSNormalization", since=23)
def rms_normalization(ctx: NodeContext) -> None:
    if int(ctx.attr("stash_type", 1)) not in _STASH_TYPES:
        raise ctx.unsupported(f"stash_type {ctx.attr('stash_type')} (only float and double)")
    ctx.emit(M.RMSNormalization(axis=int(ctx.attr("axis", -1)), epsilon=float(ctx.attr("epsilon", 1e-5))),
             ctx.inputs())


@onnx_op("RotaryEmbedding", since=23)
def rotary_embedding(ctx: NodeContext) -> None:
    op = M.RotaryEmbedding(interleaved=bool(ctx.attr("interleaved", 0)),
                           rotary_dim=int(ctx.attr("rotary_embedding_dim", 0)),
                           num_heads=int(ctx.attr("num_heads", 0)))
    ctx.emit(op, ctx.inputs())


@onnx_op("CausalConvWithState", since=27)
def causal_conv_with_state(ctx: NodeContext) -> None:
    activation = ctx.attr("activation", "none")
    activation = activation.decode() if isinstance(activation, bytes) else str(activation)
    if activation not in ("none", "silu", "swish"):
        raise ctx.unsupported(f"activation {activation!r} (the spec allows 'none', 'silu', 'swish')")
    bias, past = ctx.input(2) is not None, ctx.input(3) is not None
    ins = [ctx.input(0), ctx.input(1)] + [ctx.input(i) for i in (2, 3) if ctx.input(i) is not None]
    op = M.CausalConvWithState(activation="silu" if activation == "swish" else activation, bias=bias, past=past)
    ctx.emit(op, ins, node_outputs(ctx, 2))


@onnx_op("Swish", since=24)
def swish(ctx: NodeContext) -> None:
    ctx.emit(M.Swish(alpha=float(ctx.attr("alpha", 1.0))), [ctx.input(0)])


@onnx_op("SwiGLU", since=28)
def swiglu(ctx: NodeContext) -> None:
    ctx.emit(M.SwiGLU(alpha=float(ctx.attr("alpha", 1.0))), ctx.inputs())


@onnx_op("CumProd", since=26)
def cum_prod(ctx: NodeContext) -> None:
    op = T.CumProd(exclusive=bool(ctx.attr("exclusive", 0)), reverse=bool(ctx.attr("reverse", 0)))
    emit_with_params(ctx, op, [ctx.input(0)], {"axis": 1}, rank=rank_of(ctx, 0))


@onnx_op("BitCast", since=26)
def bit_cast(ctx: NodeContext) -> None:
    try:
        to = onnx_dtype(int(ctx.attr("to")), "target type 'to'")
    except UnimplementedError as exc:
        raise ctx.unsupported(str(exc)) from None
    ctx.emit(T.BitCast(to), [ctx.input(0)])


@onnx_op("Unique", since=11)
def unique(ctx: NodeContext) -> None:
    axis = ctx.attr("axis", None)
    op = T.Unique(axis=None if axis is None else int(axis), sorted=bool(ctx.attr("sorted", 1)))
    ctx.emit(op, [ctx.input(0)], node_outputs(ctx, 4))


@onnx_op("CenterCropPad", since=18)
def center_crop_pad(ctx: NodeContext) -> None:
    axes = ctx.attr("axes", None)
    op = T.CenterCropPad(axes=None if axes is None else tuple(int(a) for a in axes))
    emit_with_params(ctx, op, [ctx.input(0)], {"shape": 1}, rank=rank_of(ctx, 0))


@onnx_op("Det", since=11)
def det(ctx: NodeContext) -> None:
    ctx.emit(T.Det(), [ctx.input(0)])


def _ints(ctx: NodeContext, name: str) -> tuple[int, ...]:
    return tuple(int(v) for v in ctx.attr(name, ()))


@onnx_op("Col2Im", since=18)
def col2im(ctx: NodeContext) -> None:
    op = G.Col2Im(dilations=_ints(ctx, "dilations"), pads=_ints(ctx, "pads"), strides=_ints(ctx, "strides"))
    n = length_of(ctx, 1)
    emit_with_params(ctx, op, [ctx.input(0)], {"image_shape": 1, "block_shape": 2}, rank=None if n is None else 2 + n)


@onnx_op("MaxUnpool", since=9)
def max_unpool(ctx: NodeContext) -> None:
    op = G.MaxUnpool(kernel_shape=_ints(ctx, "kernel_shape"), pads=_ints(ctx, "pads"), strides=_ints(ctx, "strides"))
    emit_with_params(ctx, op, [ctx.input(0), ctx.input(1)], {"output_shape": 2}, rank=rank_of(ctx, 0))
