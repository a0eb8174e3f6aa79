"""Small helpers the built-in rewrites share: constants, pinned nodes, sweeping."""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np

from netjit.compiler.ops import Const, ConstValue, OpKind

#: Default cap on the elements of a constant a pass may materialise.
MAX_CONST_ELEMENTS = 1 << 16


def topo_order(graph, ctx) -> list[int]:
    """``graph.nodes()``, shared by the passes of a phase until one changes the graph."""
    return ctx.analyses.get(graph, "topo_order", graph.nodes)


def const_array(graph, v) -> Optional[np.ndarray]:
    """The array of value ``v`` if a Const node produces it, else None."""
    op = graph.op(v[0])
    return op.value.array if isinstance(op, Const) else None


def is_effectful(graph, n) -> bool:
    """Nodes no rewrite may drop, merge or reorder: state, host I/O, inputs, targets."""
    op = graph.op(n)
    return (op.stateful or op.host or op.kind in (OpKind.STATEFUL, OpKind.HOST, OpKind.COMMUNICATION)
            or n in graph.inputs or n in graph.targets or op.num_outputs == 0)


def add_const(graph, array, like: int, out: int = 0) -> int:
    """A Const node holding ``array`` with the blob name and device of ``(like, out)``."""
    return graph.add(Const(ConstValue(array)), names=[graph.names(like)[out]],
                     device=graph.device(like), types=[graph.type((like, out))])


def is_used(graph, n) -> bool:
    """True if ``n`` has users (data or dependency control) or is a graph output.

    An order-only successor does not need ``n``: it only runs after it if both run.
    """
    return graph.has_dependents(n) or any(v[0] == n for v in graph.outputs)


def sweep(graph, candidates: Iterable[int]) -> int:
    """Remove unused pure nodes among ``candidates`` and, transitively, their producers.

    Returns how many nodes were removed.
    """
    work, removed = list(candidates), 0
    while work:
        n = work.pop()
        if n not in graph or is_used(graph, n) or is_effectful(graph, n):
            continue
        producers = graph.producers(n)
        graph.remove(n)
        removed += 1
        work.extend(producers)
    return removed


def replace_node(graph, old: int, new: int) -> None:
    """Redirect every output of ``old`` to the same output of ``new`` and drop ``old``.

    Control successors of ``old`` are ordered after ``new`` instead.
    """
    for k in range(len(graph.types(old))):
        graph.replace_all_uses((old, k), (new, k))
    for w, order_only in graph.control_users(old):
        if w != new:
            graph.add_control(new, w, order_only)
    graph.remove(old)           # and its control edges


def take_over(graph, n: int, value) -> None:
    """``value`` (output 0 of a new node) takes over node ``n``'s single output: its
    uses and its blob names; ``n`` goes (``replace_node``, plus the names)."""
    graph.set_names(value[0], graph.names(n))
    replace_node(graph, n, value[0])
