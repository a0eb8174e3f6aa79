"""fold_constants: evaluate pure nodes whose inputs are all constants.

    %c = Const(f32[2]...); %d = Mul(%c, %c)     ->     %d = Const(f32[2][...])

Folding evaluates the node through the reference backend, so a folded value
is exactly what the unoptimised graph would compute. A fold never
materialises a constant with more than ``max_elements`` elements (a large
result stays a node computed at run time), and a node that fails to evaluate
is left alone so the error surfaces at run time as it would unoptimised.
Shape-only computations fold too: reshapes, transposes, slices and concats of
constants, and any pure node whose static output type has no elements (its
value depends on shapes only, not on its inputs).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from netjit.backends.reference import evaluate
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Const, ConstValue, OpKind, TensorType
from netjit.errors import InvalidArgumentError

from .phase import Phase
from .registry import register_pass
from .rewrite import MAX_CONST_ELEMENTS, add_const, const_array, is_effectful, topo_order

#: Kinds of op that never fold (they have no value to compute at compile time).
_NEVER = frozenset({OpKind.SOURCE, OpKind.STATEFUL, OpKind.HOST, OpKind.COMMUNICATION})


def _size(t: TensorType) -> Optional[int]:
    return math.prod(t.shape) if t.is_static else None


def _foldable(graph, n, cap: int) -> bool:
    op = graph.op(n)
    if op.kind in _NEVER:
        return False
    sizes = [_size(t) for t in graph.types(n)]
    if not all(s is not None and s <= cap for s in sizes):
        return False
    if 0 not in sizes and not all(isinstance(graph.op(u), Const) for u in graph.producers(n)):
        return False  # cheap early exit: some input is not constant
    if is_effectful(graph, n) or graph.control_inputs(n):
        return False
    return not graph.control_users(n)


def evaluate_node(graph, n) -> Optional[list[np.ndarray]]:
    """The outputs of ``n`` over its constant inputs, or None if it fails to evaluate."""
    if all(_size(t) == 0 for t in graph.types(n)):  # shape-only: no value to compute
        return [np.zeros(t.shape, t.dtype) for t in graph.types(n)]
    arrays = [const_array(graph, v) for v in graph.inputs_of(n)]
    if any(a is None for a in arrays):
        return None
    g = Graph(f"fold:{graph.name}")
    ins = [(g.add(Const(ConstValue(a))), 0) for a in arrays]
    node = g.add(graph.op(n), ins, types=graph.types(n))
    g.outputs = [(node, k) for k in range(len(graph.types(n)))]
    try:
        with np.errstate(all="ignore"):  # 1/0 folds to inf, as it runs unfolded
            return evaluate(g)
    except InvalidArgumentError:
        return None


@register_pass("fold_constants", phase=Phase.PRE_PLACEMENT, opt_level=1, after=["prune"],
               options={"max_elements": MAX_CONST_ELEMENTS})
def fold_constants(graph, ctx) -> bool:
    """Replace pure nodes over constants by the constants they compute (size-capped)."""
    cap, changed = int(ctx.option("max_elements")), False
    for n in topo_order(graph, ctx):
        if isinstance(graph.op(n), Const) or not _foldable(graph, n, cap):
            continue
        values = evaluate_node(graph, n)
        if values is None or [TensorType.of(v) for v in values] != list(graph.types(n)):
            continue
        for k, value in enumerate(values):
            graph.replace_all_uses((n, k), (add_const(graph, value, n, k), 0))
        graph.remove(n)
        changed = True
    return changed
