"""How a loop group's nest is laid out: decisions the printer follows.

Which loop is a ``prange``, whether parallel rows are pipelined, which value
is stashed in the output row between passes, which reductions run over
their own width, which sums add up blocks. Each is a function of the loop
IR and the kernel variant (serial or parallel); ``schedule`` gathers them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from netjit.compiler.ops import Exp, Log, Sigmoid, Tanh

from .groups import InstrRef, LoopGroup, Output, OutKind
from .loop_analysis import (below_row_max, closure, lead, narrow_reductions, operands,
                            reductions_of_phase)
from .lowering import SUM_BLOCK, sums_in_blocks

#: row blocks of a pipelined parallel loop (see ``pipelines``)
ROW_BLOCKS = 64
#: ops worth storing once rather than computing again in a later pass (see ``pick_stash``)
COSTLY_OPS = (Exp, Tanh, Sigmoid, Log)


@dataclass(frozen=True)
class Stash:
    """Instruction ``instr``'s value, stored in ``output``'s row by the pass before the
    last and read back by the last, instead of computed twice."""

    instr: int
    output: Output


@dataclass(frozen=True)
class Schedule:
    """The layout of one group's nest in one kernel variant."""

    prange_outer: bool            # the outermost loop is a prange
    narrow: tuple                 # reductions looped over their operand's own width
    stash: Optional[Stash]
    pipelined: bool               # rows pipelined (see ``pipelines``)
    nonpositive: frozenset        # instructions known <= 0 (``below_row_max``)


def schedule(group: LoopGroup, parallel: bool) -> Schedule:
    """The layout of ``group`` in the serial (``parallel`` False) or prange kernel variant."""
    prange = outer_is_prange(group, parallel)
    narrow = tuple(narrow_reductions(group))
    stash = pick_stash(group, narrow)
    pipelined = group.rank == 2 and pipelines(group, prange, narrow, stash)
    nonpositive = frozenset(k for k, ins in enumerate(group.instrs) if below_row_max(group, ins))
    return Schedule(prange, narrow, stash, pipelined, nonpositive)


def outer_is_prange(group: LoopGroup, parallel: bool) -> bool:
    """The outer loop of a parallel variant is a prange, unless it is the row loop
    of a rank-1 group with reductions (threads would race on the accumulators)."""
    return parallel and (group.rank >= 2 or not group.has_reductions)


def first_pass(group: LoopGroup) -> list[int]:
    """The reductions of a row's first pass (softmax's max, layer norm's mean)."""
    return reductions_of_phase(group, 0)


def pipelines(group: LoopGroup, prange: bool, narrow: tuple, stash: Optional[Stash]) -> bool:
    """Whether the parallel row loop pipelines its rows.

    A row's first pass (softmax's max, layer norm's mean) reads only the
    inputs, so it waits on memory with nothing to compute. Per thread over a
    block of rows, the next row's first pass runs inside this row's second
    (W5, hand-written: 3.13 against 3.64 ms; ``benchmarks/w5_pipelining.py``).
    Only where that pass needs nothing but the inputs and constants.
    """
    first = first_pass(group)
    if not prange or narrow or group.last_phase < 1 or not first:
        return False
    if stash is not None and group.last_phase < 2:
        return False                 # the stash would be stored by the first pass
    need = set(closure(group, operands(group, first)))
    args = [a for k in need for a in group.instrs[k].args] + [group.instrs[k].args[0] for k in first]
    return all(not isinstance(a, InstrRef) or a.index in need for a in args)


def pick_stash(group: LoopGroup, narrow: tuple) -> Optional[Stash]:
    """A costly value the last reduction pass computes and the final pass needs again
    (softmax's exp). The reduction pass stores it in the output row, the final pass
    reads it back instead of recomputing it."""
    last = group.last_phase
    outs = [o for o in group.outputs if o.kind is OutKind.FULL]
    if (group.rank == 0 or last == 0 or len(outs) != 1 or outs[0].alias is not None
            or lead(group, outs[0]) or narrow):
        return None
    o = outs[0]
    shared = set(closure(group, operands(group, reductions_of_phase(group, last - 1)))) \
        & set(closure(group, [o.instr])) - {o.instr}
    for e in sorted(shared, reverse=True):
        if group.instrs[e].dtype == group.instrs[o.instr].dtype and any(
                isinstance(group.instrs[k].op, COSTLY_OPS) for k in closure(group, [e])):
            return Stash(e, o)
    return None


def blocked_sums(group: LoopGroup, reds: list, serial: bool, bounded: bool) -> list[int]:
    """The float32 sums among ``reds`` that add up blocks (see ``SUM_BLOCK``): over a
    serial row loop whose length (``bounded``: a narrow reduction's own width) is not
    known to fit in one block."""
    last = group.shape[-1] if group.shape else None
    if not serial or (not bounded and last is not None and last <= SUM_BLOCK):
        return []
    return [k for k in reds if sums_in_blocks(group.instrs[k].op, group.instrs[k].dtype)]
