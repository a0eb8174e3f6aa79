"""Loop groups: elementwise ops and last-axis reductions fused into one loop nest.

A group iterates over a *domain* (the broadcast shape of its full-rank
values). Per domain row it runs one or more passes over the last axis: a
reduction of a value computed in pass p is complete after pass p, so values
that need it are computed in pass p+1. Layer norm is three passes over a row
(mean, variance, output) and softmax three (max, sum of exp, output), all in
cache, with no temporaries: full-shape intermediates are recomputed per pass
instead of stored.

Each value in a group is an *instruction* (``Instr``) with a ``Level``. Its
operands are ``ExtRef`` (an array read from outside the group), ``InstrRef``
(an earlier instruction) or ``ConstRef`` (a scalar constant inlined as a
module global). For softmax over ``x``::

    t0 = ReduceMax(ExtRef(0))        ROW, phase 1 (complete after pass 0)
    t1 = Sub(ExtRef(0), InstrRef(0)) FULL, phase 1
    t2 = Exp(InstrRef(1))            FULL, phase 1
    t3 = ReduceSum(InstrRef(2))      ROW, phase 2
    t4 = Div(InstrRef(2), InstrRef(3))  FULL, phase 2 -> Output(4, kind FULL)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional, Union

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import FusedElementwise, Op, OpKind, Reduce
from netjit.compiler.ops.base import normalize_axes
from netjit.compiler.ops.types import broadcast_shapes


class Level(Enum):
    """How a value varies inside a domain row."""

    FULL = "full"    # one value per element: varies along the last axis
    ROW = "row"      # one value per row: reductions, values made only from them,
                     # inputs whose last dim is 1, scalar constants


class OutKind(Enum):
    """The buffer a group output fills."""

    FULL = "full"    # the domain's shape
    KEEP = "keep"    # a row value, last dim kept as 1 (keepdims)
    DROP = "drop"    # a row value, last dim dropped


@dataclass(frozen=True)
class ExtRef:
    """Operand: the group input ``LoopGroup.exts[index]``."""

    index: int


@dataclass(frozen=True)
class InstrRef:
    """Operand: the value of ``LoopGroup.instrs[index]``."""

    index: int


@dataclass(frozen=True)
class ConstRef:
    """Operand: a scalar constant, the module global ``name`` holding ``value``."""

    name: str
    value: Any       # a NumPy scalar of the constant's dtype


Operand = Union[ExtRef, InstrRef, ConstRef]


@dataclass
class Ext:
    """An array the group reads, produced outside it."""

    value: tuple
    rank: int
    shape: tuple          # static dims (None = unknown)
    level: Level
    dtype: np.dtype


@dataclass
class Instr:
    """One scalar operation per domain element (or per row, at ``Level.ROW``)."""

    op: Op
    args: list            # of Operand
    dtype: np.dtype
    level: Level
    phase: int            # the pass over the row that computes it
    reduce: bool = False  # a reduction over the last axis: complete after pass ``phase - 1``


@dataclass
class Output:
    """An instruction's value the group writes to a buffer (read after the group)."""

    instr: int
    value: tuple
    kind: OutKind
    alias: Optional[int] = None   # ext index whose buffer it may overwrite
    rank: int = -1        # a fused sub-value may have a lower rank than the domain


@dataclass
class LoopGroup:
    """One loop nest: its domain, inputs, instructions and outputs."""

    rank: int
    shape: tuple
    nodes: list = field(default_factory=list)
    exts: list = field(default_factory=list)       # of Ext
    instrs: list = field(default_factory=list)     # of Instr
    outputs: list = field(default_factory=list)    # of Output
    where: dict = field(default_factory=dict)      # graph value -> Operand

    @property
    def has_reductions(self) -> bool:
        return any(i.reduce for i in self.instrs)

    @property
    def last_phase(self) -> int:
        """The last pass over a row: it writes the full outputs."""
        phases = [self.instrs[o.instr].phase for o in self.outputs if o.kind is OutKind.FULL]
        phases += [self.phase_of(i.args[0]) for i in self.instrs if i.reduce]
        return max(phases, default=0)

    def phase_of(self, arg: Operand) -> int:
        return self.instrs[arg.index].phase if isinstance(arg, InstrRef) else 0

    def level_of(self, arg: Operand) -> Level:
        if isinstance(arg, InstrRef):
            return self.instrs[arg.index].level
        return self.exts[arg.index].level if isinstance(arg, ExtRef) else Level.ROW

    def dtype_of(self, arg: Operand) -> np.dtype:
        if isinstance(arg, ExtRef):
            return self.exts[arg.index].dtype
        if isinstance(arg, ConstRef):
            return np.asarray(arg.value).dtype
        return self.instrs[arg.index].dtype


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
