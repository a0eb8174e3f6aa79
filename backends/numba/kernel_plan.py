"""Plan a kernel stage: which nodes form loop groups, which are statements.

Nodes are visited in topological order with at most one open group. A
candidate that reads the open group's values (and iterates over a compatible
domain) joins it; a node that reads the group but cannot join closes it; a
node independent of the group is emitted ahead of it, so the group stays
open. Values of a closed group used outside it become its outputs.
"""
from __future__ import annotations

from typing import Callable, Optional

from netjit.compiler.ir import Graph
from netjit.compiler.ops import FusedElementwise, OpKind, Reduce, TensorType

from .groups import (ConstRef, Ext, ExtRef, Instr, InstrRef, Level, LoopGroup, Operand, Output,
                     OutKind, domain_of, is_candidate, merge_shapes, shapes_compatible)

#: ``scalar_const(value, out_rank) -> ConstRef | None`` for constants inlined as module globals.
ConstLookup = Callable[[tuple, int], Optional[ConstRef]]


def plan_kernel(graph: Graph, nodes: list, scalar_const: ConstLookup, needed_outside: Callable) -> list:
    """Items in run order: LoopGroup or a node id (a statement)."""
    items, group = [], None
    for n in nodes:
        reads = group is not None and any(v in group.where for v in graph.inputs_of(n))
        if is_candidate(graph, n):
            if (reads or _shares_input(group, graph, n)) and _fits(group, graph, n):
                _add_node(group, graph, n, scalar_const)
                continue
            if group is not None:
                items.append(_close(group, graph, needed_outside))
            shape = domain_of(graph, n)
            group = LoopGroup(len(shape), tuple(shape))
            _add_node(group, graph, n, scalar_const)
            continue
        if reads:
            items.append(_close(group, graph, needed_outside))
            group = None
        items.append(n)
    if group is not None:
        items.append(_close(group, graph, needed_outside))
    return items


def _shares_input(group, graph: Graph, n: int) -> bool:
    """An independent node reading one of the group's inputs: fusing saves a pass over it."""
    if group is None:
        return False
    exts = {e.value for e in group.exts}
    return any(tuple(v) in exts for v in graph.inputs_of(n)) and domain_of(graph, n) == group.shape


def _fits(group: LoopGroup, graph: Graph, n: int) -> bool:
    shape = domain_of(graph, n)
    return (len(shape) == group.rank and shapes_compatible(tuple(shape), group.shape)
            and not _reads_row_as_trailing(group, graph, n, len(shape))
            and _reductions_aligned(group, graph, n))


def _reductions_aligned(group: LoopGroup, graph: Graph, n: int) -> bool:
    """Every reduction ``n`` reads through shares a last-axis input with ``n``'s own operands.

    A group's rows run over one last-axis width, the broadcast of its inputs'.
    A reduction's result no longer has that axis, so a reader may combine it
    with arrays of any other width (``x.sum() + concat(x, x)``); such a reader
    joins only if one of its operands and the reduced operand read a common
    input along the last axis, which NumPy broadcasting then ties to one width
    (softmax: ``exp(x - max(x)) / sum(exp(...))``).
    """
    if group.rank == 0:
        return True
    mine: set = set()
    reduced: list = []
    for v in graph.inputs_of(n):
        arg = group.where.get(v)
        if arg is None:
            t = graph.type(v)
            if t.rank and t.shape[-1] != 1:
                mine.add(v)
            continue
        mine |= _last_axis_inputs(group, arg)
        reduced += _reduced_operands(group, arg)
    # a reader with no last-axis operand is one value per row: any width suits it
    return not mine or all(deps & mine for deps in reduced)


def _last_axis_inputs(group: LoopGroup, arg: Operand) -> set:
    """The group inputs (graph values) ``arg`` varies with along the last axis."""
    if isinstance(arg, ExtRef):
        e = group.exts[arg.index]
        return {e.value} if e.level is Level.FULL else set()
    if not isinstance(arg, InstrRef) or group.instrs[arg.index].reduce:
        return set()
    out: set = set()
    for a in group.instrs[arg.index].args:
        out |= _last_axis_inputs(group, a)
    return out


def _reduced_operands(group: LoopGroup, arg: Operand) -> list:
    """For each reduction ``arg`` depends on: the last-axis inputs of its operand."""
    if not isinstance(arg, InstrRef):
        return []
    ins = group.instrs[arg.index]
    if ins.reduce:
        return [_last_axis_inputs(group, ins.args[0])]
    if ins.level is Level.FULL:
        return []      # varies along the axis: its reductions were checked when it joined
    return [deps for a in ins.args for deps in _reduced_operands(group, a)]


def _reads_row_as_trailing(group: LoopGroup, graph: Graph, n: int, rank: int) -> bool:
    """``n`` reads a per-row value of lower rank (a reduction with keepdims=False).

    Inside the group that value is indexed by row, but NumPy broadcasting
    aligns a lower-rank operand with the trailing axes: ``x - x.sum(-1)`` pairs
    column j with row sum j. Such a reader starts a new group that reads the
    value as an ordinary broadcast input.
    """
    for v in graph.inputs_of(n):
        where = group.where.get(v)
        if isinstance(where, InstrRef) and group.instrs[where.index].level is Level.ROW:
            r = graph.type(v).rank
            if r is not None and 0 < r < rank:
                return True
    return False


def _arg(group: LoopGroup, graph: Graph, v: tuple, out_rank: int, scalar_const: ConstLookup) -> Operand:
    if v in group.where:
        return group.where[v]
    const = scalar_const(v, out_rank)
    if const is not None:
        return const
    for i, e in enumerate(group.exts):
        if e.value == v:
            return ExtRef(i)
    t = graph.type(v)
    r = group.rank
    row = r == 0 or t.rank == 0 or (t.rank >= 1 and t.shape[-1] == 1)
    group.exts.append(Ext(v, t.rank, t.shape, Level.ROW if row else Level.FULL, t.dtype))
    return ExtRef(len(group.exts) - 1)


def _push(group: LoopGroup, op, args: list, dtype, reduce: bool = False) -> InstrRef:
    phase = max((group.phase_of(a) for a in args), default=0)
    full = group.rank > 0 and any(group.level_of(a) is Level.FULL for a in args)
    if reduce and full:
        group.instrs.append(Instr(op, list(args), dtype, Level.ROW, phase + 1, True))
    else:   # reducing a value already constant along the axis is the identity
        group.instrs.append(Instr(op, list(args), dtype, Level.FULL if full else Level.ROW, phase, False))
    return InstrRef(len(group.instrs) - 1)


def _add_node(group: LoopGroup, graph: Graph, n: int, scalar_const) -> None:
    op = graph.op(n)
    ins = graph.inputs_of(n)
    out_rank = len(domain_of(graph, n))
    args = [_arg(group, graph, v, out_rank, scalar_const) for v in ins]
    group.nodes.append(n)
    group.shape = merge_shapes(group.shape, tuple(domain_of(graph, n)))
    if isinstance(op, FusedElementwise):
        vals = list(args)
        for sub, refs in op.program:
            sub_types = sub.infer(*[_type_of(group, vals[r]) for r in refs])
            vals.append(_push(group, sub, [vals[r] for r in refs], sub_types[0].dtype))
        for k, r in enumerate(op.outputs):
            group.where[(n, k)] = vals[r]
        return
    dtype = graph.types(n)[0].dtype
    group.where[(n, 0)] = _push(group, op, args, dtype, reduce=isinstance(op, Reduce))


def _type_of(group: LoopGroup, arg: Operand) -> TensorType:
    shape = group.exts[arg.index].shape if isinstance(arg, ExtRef) else ()
    return TensorType(group.dtype_of(arg), shape)


def _close(group: LoopGroup, graph: Graph, needed_outside) -> LoopGroup:
    members = set(group.nodes)
    for v, ref in group.where.items():
        users = {w for w, _ in graph.users(v)}
        if users - members or needed_outside(v):
            k = ref.index
            group.outputs.append(Output(k, v, _out_kind(group, graph, v, k), rank=graph.type(v).rank))
    group.outputs.sort(key=lambda o: (o.instr, o.value))
    _choose_aliases(group, graph)
    return group


def _out_kind(group: LoopGroup, graph: Graph, v: tuple, k: int) -> OutKind:
    if group.instrs[k].level is Level.FULL or group.rank == 0:
        return OutKind.FULL
    return OutKind.KEEP if graph.type(v).rank == group.rank else OutKind.DROP


def _choose_aliases(group: LoopGroup, graph: Graph) -> None:
    """A full output may overwrite a GEMM result read only by this group (same dtype)."""
    taken = set()
    for o in group.outputs:
        if o.kind is not OutKind.FULL:
            continue
        for i, e in enumerate(group.exts):
            node = e.value[0]
            if (i not in taken and o.rank == group.rank and graph.op(node).kind is OpKind.CONTRACTION and e.rank == group.rank
                    and graph.type(e.value).dtype == graph.type(o.value).dtype and e.level is Level.FULL
                    and all(w in group.nodes for w, _ in graph.users(e.value))
                    and e.value not in graph.outputs):
                o.alias = i
                taken.add(i)
                break
