"""Loop groups: elementwise ops and last-axis reductions fused into one loop nest.

A group iterates over a *domain* (the broadcast shape of its full-rank
values). Per domain row it runs one or more passes over the last axis: a
reduction of a value computed in pass p is complete after pass p, so values
that need it are computed in pass p+1. Layer norm is three passes over a row
(mean, variance, output) and softmax three (max, sum of exp, output), all in
cache, with no temporaries: full-shape intermediates are recomputed per pass
instead of stored.

Each value in a group is an *instruction* with a level: "full" (varies along
the last axis) or "row" (one value per row: reductions, values computed only
from them, inputs whose last dim is 1, scalar constants).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import FusedElementwise, Op, OpKind, Reduce
from netjit.compiler.ops.base import normalize_axes
from netjit.compiler.ops.types import broadcast_shapes


@dataclass
class Ext:
    """An array the group reads, produced outside it."""

    value: tuple
    rank: int
    shape: tuple          # static dims (None = unknown)
    level: str


@dataclass
class Instr:
    op: Op
    args: list            # ("e", ext index) | ("i", instr index) | ("k", global name, python value)
    dtype: np.dtype
    level: str
    phase: int
    reduce: bool = False


@dataclass
class Output:
    instr: int
    value: tuple
    kind: str             # "full" | "keep" (row, last dim 1) | "drop" (row, last dim dropped)
    alias: Optional[int] = None   # ext index whose buffer it may overwrite
    rank: int = -1        # a fused sub-value may have a lower rank than the domain


@dataclass
class LoopGroup:
    rank: int
    shape: tuple
    nodes: list = field(default_factory=list)
    exts: list = field(default_factory=list)
    instrs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    where: dict = field(default_factory=dict)      # graph value -> ("i", k)

    @property
    def has_reductions(self) -> bool:
        return any(i.reduce for i in self.instrs)

    @property
    def last_phase(self) -> int:
        phases = [self.instrs[o.instr].phase for o in self.outputs if o.kind == "full"]
        phases += [self.phase_of(i.args[0]) for i in self.instrs if i.reduce]
        return max(phases, default=0)

    def phase_of(self, arg) -> int:
        return self.instrs[arg[1]].phase if arg[0] == "i" else 0

    def level_of(self, arg) -> str:
        if arg[0] == "i":
            return self.instrs[arg[1]].level
        return self.exts[arg[1]].level if arg[0] == "e" else "row"


def reduces_last_axis(graph: Graph, n: int) -> bool:
    op = graph.op(n)
    if not isinstance(op, Reduce) or op.kind is not OpKind.REDUCTION:
        return False
    rank = graph.type(graph.inputs_of(n)[0]).rank
    if rank is None:
        return False
    return rank == 0 or normalize_axes(op.axes, rank) == (rank - 1,)


def is_candidate(graph: Graph, n: int) -> bool:
    op = graph.op(n)
    if op.kind is OpKind.ELEMENTWISE or isinstance(op, FusedElementwise):
        return all(t.rank is not None for t in graph.types(n))
    return reduces_last_axis(graph, n)


def domain_of(graph: Graph, n: int) -> tuple:
    """The static domain shape a candidate node iterates over."""
    if isinstance(graph.op(n), Reduce):
        return graph.type(graph.inputs_of(n)[0]).shape
    # a fused node's outputs may differ in rank (a scalar sub-value beside a vector)
    return broadcast_shapes(*(t.shape for t in graph.types(n)))


def shapes_compatible(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y or x == 1 or y == 1
                                    for x, y in zip(a, b))


def merge_shapes(a: tuple, b: tuple) -> tuple:
    return tuple(y if x in (None, 1) and y not in (None, 1) else x for x, y in zip(a, b))
