"""Facts about a loop group, computed from the loop IR alone (no source text).

Dependencies (which inputs a value reads, along every axis or only along
the last), closures (which full-level instructions a pass must compute),
phases (which reductions complete after which pass), and the facts a
scalar form may exploit (``x - max(x)`` is <= 0; a division by a row's
reduction). The schedule (``loop_schedule``) and the printers read them.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from netjit.compiler.ops import Div, ReduceMax, Sub

from .groups import ExtRef, Instr, InstrRef, Level, LoopGroup, Operand, Output, OutKind


def contributors(group: LoopGroup, k: int) -> list[tuple[int, int]]:
    """(ext index, its axis) for exts whose axis aligned to domain dim k is not static 1."""
    out = []
    for i, e in enumerate(group.exts):
        a = k - (group.rank - e.rank)
        if a >= 0 and e.shape[a] != 1:
            out.append((i, a))
    return out


def may_broadcast(group: LoopGroup) -> bool:
    """Some domain dim has two inputs of dynamic size: they may broadcast at run time."""
    return any(len(contributors(group, k)) > 1 for k in range(group.rank))


def instr_deps(group: LoopGroup, k: int, last_axis: bool = False) -> set[int]:
    """The exts instruction ``k`` reads. Along the last axis a reduction's value has
    width 1 whatever it reduced, so there the walk stops at reductions."""
    seen, todo, exts = set(), [k], set()
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        if last_axis and group.instrs[i].reduce:
            continue
        for a in group.instrs[i].args:
            if isinstance(a, ExtRef):
                exts.add(a.index)
            elif isinstance(a, InstrRef):
                todo.append(a.index)
    return exts


def operand_deps(group: LoopGroup, a: Operand, last_axis: bool = False) -> set[int]:
    """The exts an operand reads (see ``instr_deps``)."""
    if isinstance(a, ExtRef):
        return {a.index}
    return instr_deps(group, a.index, last_axis) if isinstance(a, InstrRef) else set()


def narrow_reductions(group: LoopGroup) -> list[int]:
    """Reductions whose operand may be narrower than the domain along the last axis.

    A domain dim is the broadcast of every input's dim. When a dynamic dim
    turns out to be 1 at run time, an operand that does not read the widest
    input is constant along the reduced axis with true width 1, while the
    loops run over the domain's width: it must be reduced over its own width
    (summing the broadcast copies would count it several times). That can
    only happen if the operand misses a contributor of the last axis and none
    of the contributors it reads has a static width.
    """
    if not group.rank:
        return []
    last = contributors(group, group.rank - 1)
    out = []
    for k, ins in enumerate(group.instrs):
        if not ins.reduce:
            continue
        deps = operand_deps(group, ins.args[0], last_axis=True)
        mine = [(i, ax) for i, ax in last if i in deps]
        if len(mine) < len(last) and all(group.exts[i].shape[ax] is None for i, ax in mine):
            out.append(k)
    return out


def out_rank(group: LoopGroup, o: Output) -> int:
    """Rank of the buffer the loops fill (full outputs fill the whole domain)."""
    return group.rank - (1 if o.kind is OutKind.DROP else 0)


def lead(group: LoopGroup, o: Output) -> int:
    """Leading domain dims a lower-rank fused sub-value does not have."""
    return out_rank(group, o) - o.rank if o.rank >= 0 else 0


def reductions_of_phase(group: LoopGroup, p: int) -> list[int]:
    """The reductions pass ``p`` accumulates (their operand is computed in pass ``p``)."""
    return [k for k, i in enumerate(group.instrs) if i.reduce and group.phase_of(i.args[0]) == p]


def row_instrs(group: LoopGroup, p: int) -> list[int]:
    """Row-level instructions computable once pass ``p`` is complete (not reductions)."""
    return [k for k, ins in enumerate(group.instrs)
            if ins.level is Level.ROW and not ins.reduce and ins.phase <= p]


def operands(group: LoopGroup, reds: Iterable[int]) -> list[int]:
    """The instructions reductions ``reds`` read (not the inputs they read directly)."""
    return [group.instrs[k].args[0].index for k in reds if isinstance(group.instrs[k].args[0], InstrRef)]


def closure(group: LoopGroup, roots: Iterable[int], stop: Iterable[int] = ()) -> list[int]:
    """Full-level instructions needed for ``roots``, in program order (not past ``stop``)."""
    need, todo = set(), list(roots)
    while todo:
        k = todo.pop()
        if k in need or k in stop or group.instrs[k].level is not Level.FULL:
            continue
        need.add(k)
        todo += [a.index for a in group.instrs[k].args if isinstance(a, InstrRef)]
    return sorted(need)


def from_reduction(group: LoopGroup, a: Operand) -> bool:
    """Whether operand ``a`` is, or is computed from, a reduction of the group."""
    todo = [a]
    while todo:
        a = todo.pop()
        if isinstance(a, InstrRef):
            ins = group.instrs[a.index]
            if ins.reduce:
                return True
            todo += ins.args
    return False


def below_row_max(group: LoopGroup, ins: Instr) -> bool:
    """Whether ``ins`` is ``x - max(x)`` over the row (softmax's shift) for an input
    ``x``: <= 0 or NaN. Not for a computed ``x``: contraction may fuse a product
    in it into the subtraction, whose unrounded result can be far above 0."""
    if not isinstance(ins.op, Sub):
        return False
    x, m = ins.args
    if not isinstance(x, ExtRef) or not isinstance(m, InstrRef):
        return False
    mx = group.instrs[m.index]
    return mx.reduce and isinstance(mx.op, ReduceMax) and mx.args[0] == x \
        and mx.dtype == ins.dtype == group.dtype_of(x)


def divides_by_row_value(group: LoopGroup, ins: Instr, fastmath: int) -> bool:
    """Whether ``ins`` divides a float by a value the row's reductions computed
    (softmax's sum, layer norm's deviation): at fast-math >= 1 it multiplies
    by the reciprocal, which LLVM computes once per row (<= 1.5 ulp from the
    quotient; inf where the reduction is a denormal, as under arcp before). Not
    for constants or input columns, whose denormals are ordinary inputs."""
    if not isinstance(ins.op, Div) or fastmath < 1 or ins.level is not Level.FULL:
        return False
    dt = np.dtype(ins.dtype)
    return dt.kind == "f" and all(np.dtype(group.dtype_of(a)) == dt for a in ins.args) \
        and group.level_of(ins.args[1]) is Level.ROW and from_reduction(group, ins.args[1])
