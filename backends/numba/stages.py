"""Split a segment into host steps and jitted kernels, in run order.

Host ops (``op.host``), stateful ops (variables go through the session's state
store) and anything touching a string value run in the Python wrapper; every
other node runs inside a jitted kernel. A kernel is cut only where a
compute node needs a host result that itself needs an earlier kernel's result,
so the usual segment is: host prologue (variable reads), one kernel, host
epilogue (Assign, Print).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import OpKind


@dataclass
class Stage:
    """``kind`` is "host" or "kernel"; ``nodes`` in topological order."""

    kind: str
    index: int
    nodes: list = field(default_factory=list)


def runs_on_host(graph: Graph, n: int) -> bool:
    """True for nodes the wrapper runs with the op's NumPy reference."""
    op = graph.op(n)
    if op.host or op.stateful or op.kind in (OpKind.HOST, OpKind.COMMUNICATION):
        return True
    values = list(graph.types(n)) + [graph.type(v) for v in graph.inputs_of(n)]
    return any(t.dtype == np.dtype(object) for t in values)


def is_free(graph: Graph, n: int) -> bool:
    """Constants: the wrapper holds them, so every stage can use them."""
    return graph.op(n).name == "Const"


def split_stages(graph: Graph) -> list[Stage]:
    """Host stage h runs after kernel h-1 and before kernel h (h = 0 is the prologue)."""
    level: dict[int, int] = {}       # node -> 2*k+1 for kernel k, 2*h for host block h
    for n in graph.nodes():
        if n in graph.inputs or is_free(graph, n):
            level[n] = 0
            continue
        deps = [u for u, _ in graph.inputs_of(n)] + graph.control_inputs(n)
        lv = max((level[u] for u in deps), default=0)
        if runs_on_host(graph, n):
            level[n] = lv + 1 if lv % 2 else lv          # after the kernel it needs
        else:
            level[n] = lv if lv % 2 else lv + 1          # the kernel after the host block
    top = max(level.values(), default=0)
    stages = [Stage("kernel" if k % 2 else "host", k // 2) for k in range(top + 1)]
    for n in graph.nodes():
        if n not in graph.inputs and not is_free(graph, n):
            stages[level[n]].nodes.append(n)
    return [s for s in stages if s.nodes]
