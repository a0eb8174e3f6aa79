"""ONNX converters of the recent ops (``ops.modern_nn``, ``ops.modern_tensor``).

    RMSNormalization(stash_type float|double)  -> RMSNormalization(axis, epsilon)
    RotaryEmbedding                            -> RotaryEmbedding(interleaved, rotary_dim, num_heads)
    CausalConvWithState(x, w, [b], [past])     -> CausalConvWithState(activation, bias=, past=) over the given inputs
    Swish, SwiGLU                              -> the op of that name (alpha)
"""
from __future__ import annotations

from ...ops import modern_nn as M
from .converters import NodeContext, onnx_op
from .param_inputs import node_outputs

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
