"""Backend-local rewrites that expose loops to fusion before code generation.

They run on the backend's private copy of a segment graph:

* ``FC(x, w, b) -> Add(MatMul(Reshape(x), w, trans_b), b)``: the bias add joins
  the consumer's loop (with the activation), so the GEMM output is read once.
* ``Softmax(x, axis) -> e = Exp(x - ReduceMax(x)); e / ReduceSum(e)``: along
  the last axis the five ops become one row loop nest (see ``plan``).
"""
from __future__ import annotations

from netjit.compiler.ir import Graph
from netjit.compiler.ops import (FC, Add, Div, Exp, MatMul, ReduceMax, ReduceSum,
                                 Reshape, Softmax, Sub)


def replace_node(graph: Graph, n: int, new_value) -> None:
    """``new_value`` takes over node ``n``'s single output: its uses and its names; ``n`` goes."""
    graph.replace_all_uses((n, 0), new_value)
    graph.set_names(new_value[0], graph.names(n))
    graph.remove(n)


def expand_fc(graph: Graph, n: int) -> bool:
    """FC(x, w, b) -> Add(MatMul(x2, w, trans_b=True), b), x2 = x or Reshape(x, (0, -1)).

    Only for ``axis == 1`` (the Caffe2 default); other axes keep the FC node.
    """
    op = graph.op(n)
    x, w, b = graph.inputs_of(n)
    if op.axis != 1 or graph.type(x).rank is None:
        return False
    if graph.type(x).rank != 2:
        x = (graph.add(Reshape((0, -1)), [x]), 0)
    mm = graph.add(MatMul(trans_b=True), [x, w])
    replace_node(graph, n, (graph.add(Add(), [(mm, 0), b]), 0))
    return True


def expand_softmax(graph: Graph, n: int) -> None:
    """Softmax(x) -> Exp(x - ReduceMax(x)) / ReduceSum(...), all keepdims along ``axis``."""
    axis = graph.op(n).axis
    (x,) = graph.inputs_of(n)
    mx = graph.add(ReduceMax(axes=(axis,)), [x])
    e = graph.add(Exp(), [(graph.add(Sub(), [x, (mx, 0)]), 0)])
    s = graph.add(ReduceSum(axes=(axis,)), [(e, 0)])
    replace_node(graph, n, (graph.add(Div(), [(e, 0), (s, 0)]), 0))


def expand_composites(graph: Graph) -> Graph:
    """Apply the expansions above to every FC and Softmax node (in place)."""
    for n in graph.nodes():
        op = graph.op(n)
        if isinstance(op, FC):
            expand_fc(graph, n)
        elif isinstance(op, Softmax):
            expand_softmax(graph, n)
    return graph
