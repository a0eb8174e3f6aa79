"""Converters of ONNX's indexing and ordering ops: gathers, scatters, OneHot, NonZero, TopK, Arg*, CumSum.

    Gather(x, i, axis) -> Gather(axis)(x, i)     TopK(x, k) -> TopK(k=...)(x), k known or bound at run time
"""
from __future__ import annotations

from ...ops.indexing import Compress, Gather, GatherElements, GatherND, NonZero, OneHot, ScatterElements, \
    ScatterND
from ...ops.ordering import ArgMax, ArgMin, CumSum, TopK
from .converters import NodeContext, onnx_op
from .param_inputs import emit_with_params, node_outputs, rank_of


@onnx_op("Gather")
def gather(ctx: NodeContext) -> None:
    ctx.emit(Gather(ctx.attr("axis", 0)), ctx.inputs())


@onnx_op("GatherElements", since=11)
def gather_elements(ctx: NodeContext) -> None:
    ctx.emit(GatherElements(ctx.attr("axis", 0)), ctx.inputs())


@onnx_op("GatherND", since=11)
def gather_nd(ctx: NodeContext) -> None:
    ctx.emit(GatherND(ctx.attr("batch_dims", 0)), ctx.inputs())


@onnx_op("Scatter", since=9)
def scatter(ctx: NodeContext) -> None:
    """Scatter (deprecated) is ScatterElements without a reduction."""
    ctx.emit(ScatterElements(ctx.attr("axis", 0)), ctx.inputs())


@onnx_op("ScatterElements", since=11)
def scatter_elements(ctx: NodeContext) -> None:
    ctx.emit(ScatterElements(ctx.attr("axis", 0), ctx.attr("reduction", "none")), ctx.inputs())


@onnx_op("ScatterND", since=11)
def scatter_nd(ctx: NodeContext) -> None:
    ctx.emit(ScatterND(ctx.attr("reduction", "none")), ctx.inputs())


@onnx_op("OneHot", since=9)
def one_hot(ctx: NodeContext) -> None:
    r = rank_of(ctx, 0)
    emit_with_params(ctx, OneHot(axis=ctx.attr("axis", -1)), [ctx.input(0), ctx.input(2)], {"depth": 1},
                     rank=None if r is None else r + 1)


@onnx_op("NonZero", since=9)
def non_zero(ctx: NodeContext) -> None:
    ctx.emit(NonZero(), [ctx.input(0)])


@onnx_op("Compress", since=9)
def compress(ctx: NodeContext) -> None:
    ctx.emit(Compress(ctx.attr("axis", None)), ctx.inputs())


@onnx_op("TopK")
def top_k_1(ctx: NodeContext) -> None:
    ctx.emit(TopK(ctx.attr("axis", -1), ctx.attr("k")), [ctx.input(0)], node_outputs(ctx, 2))


@onnx_op("TopK", since=10)
def top_k(ctx: NodeContext) -> None:
    """Any order is valid for sorted=0; netjit's sorted one is among them."""
    op = TopK(ctx.attr("axis", -1), largest=bool(ctx.attr("largest", 1)), sorted=bool(ctx.attr("sorted", 1)))
    emit_with_params(ctx, op, [ctx.input(0)], {"k": 1}, rank=rank_of(ctx, 0))


def _arg(cls):
    def convert(ctx: NodeContext) -> None:
        ctx.emit(cls(ctx.attr("axis", 0), bool(ctx.attr("keepdims", 1)), bool(ctx.attr("select_last_index", 0))),
                 [ctx.input(0)])
    return convert


onnx_op("ArgMax")(_arg(ArgMax))
onnx_op("ArgMin")(_arg(ArgMin))


@onnx_op("CumSum", since=11)
def cum_sum(ctx: NodeContext) -> None:
    op = CumSum(exclusive=bool(ctx.attr("exclusive", 0)), reverse=bool(ctx.attr("reverse", 0)))
    emit_with_params(ctx, op, [ctx.input(0)], {"axis": 1}, rank=rank_of(ctx, 0))
