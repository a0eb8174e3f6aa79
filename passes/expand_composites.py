"""expand_composites: FC and Softmax as the loops the numba backend fuses (numba only).

    %y = FC(%x, %w, %b)
        ->  %m = MatMul(%x, %w, trans_b=True); %y = Add(%m, %b)
    %p = Softmax(%z)
        ->  %1 = ReduceMax(%z, axes=(-1,)); %2 = Sub(%z, %1); %3 = Exp(%2)
            %4 = ReduceSum(%3, axes=(-1,)); %p = Div(%3, %4)

A SEGMENT pass of the numba backend: the bias add joins its consumer's loop
(with the activation), so the GEMM output is read once; along the last axis
Softmax's five ops become one row loop nest. An FC over inputs of rank other
than 2 reshapes them to rows first; an FC with ``axis != 1`` stays.
"""
from __future__ import annotations

from netjit.compiler.ir import Graph
from netjit.compiler.ops import FC, Add, Div, Exp, MatMul, ReduceMax, ReduceSum, Reshape, Softmax, Sub

from .phase import Phase
from .registry import register_pass
from .rewrite import take_over


def expand_fc(graph: Graph, n: int) -> bool:
    """FC(x, w, b) -> Add(MatMul(x2, w, trans_b=True), b), x2 = x or Reshape(x, (0, -1))."""
    op = graph.op(n)
    x, w, b = graph.inputs_of(n)
    if op.axis != 1 or graph.type(x).rank is None:
        return False
    if graph.type(x).rank != 2:
        x = (graph.add(Reshape((0, -1)), [x]), 0)
    mm = graph.add(MatMul(trans_b=True), [x, w])
    take_over(graph, n, (graph.add(Add(), [(mm, 0), b]), 0))
    return True


def expand_softmax(graph: Graph, n: int) -> bool:
    """Softmax(x) -> Exp(x - ReduceMax(x)) / ReduceSum(...), all keepdims along ``axis``."""
    axis = graph.op(n).axis
    (x,) = graph.inputs_of(n)
    mx = graph.add(ReduceMax(axes=(axis,)), [x])
    e = graph.add(Exp(), [(graph.add(Sub(), [x, (mx, 0)]), 0)])
    s = graph.add(ReduceSum(axes=(axis,)), [(e, 0)])
    take_over(graph, n, (graph.add(Div(), [(e, 0), (s, 0)]), 0))
    return True


EXPANSIONS = {FC: expand_fc, Softmax: expand_softmax}


@register_pass("expand_composites", phase=Phase.SEGMENT, opt_level=0,
               backends=("numba",))
def expand_composites(graph: Graph, ctx) -> bool:
    """FC(x, w, b) -> Add(MatMul(x, w, trans_b), b); Softmax(x) -> Exp(x - max) / sum."""
    changed = False
    for n in graph.nodes():
        expand = EXPANSIONS.get(type(graph.op(n)))
        if expand is not None:
            changed = expand(graph, n) or changed
    return changed
