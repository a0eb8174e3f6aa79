"""fuse_elementwise: maximal groups of elementwise ops become one FusedElementwise.

    %t = Mul(%x, %x); %u = Tanh(%t); %y = Add(%u, %b)
        ->  %y = FusedElementwise(%x, %b, program=(Mul(in0, in0); Tanh(t0); Add(t1, in1)))

A group is grown in topological order: an elementwise node joins the groups
of its elementwise producers on the same device when no path leaves the
union and comes back into it, counting the other groups as the single nodes
they will become (else two fused nodes could depend on each other). Broadcasting inside a group is allowed; the fused node's
inputs are the group's external inputs in order of first use, and its outputs
are every member value used outside the group (or fetched), in topological
order, so an intermediate needed elsewhere becomes an extra output. Host and
stateful ops, string values, nodes with control edges and ops on different
devices are never fused. Single ops stay as they are.
"""
from __future__ import annotations

from netjit.compiler.ops import DTYPES, FusedElementwise, OpKind

from .phase import Phase
from .registry import register_pass
from .rewrite import is_effectful, topo_order

_STR = DTYPES["str"]


def _fusible(graph, n) -> bool:
    if graph.op(n).kind is not OpKind.ELEMENTWISE or is_effectful(graph, n):
        return False
    if graph.control_users(n) or graph.control_inputs(n):
        return False
    types = list(graph.types(n)) + [graph.type(v) for v in graph.inputs_of(n)]
    return all(t.dtype != _STR for t in types)


def _convex(graph, parts: list, exits: set, pos: dict, limit: int, group_of: dict,
            members: dict) -> bool:
    """No path from the union of ``parts`` through outside nodes back into it.

    ``exits`` are the successors of the union outside it. Other groups count
    as single nodes (they will be fused too): entering one at any member
    leaves it from every member. Every member sits at a topological position
    <= ``limit``, so a returning path only passes ungrouped nodes before it.
    """
    seen: set = set()
    frontier: list = []

    def visit(w):
        if w not in seen and (w in group_of or pos[w] < limit):
            unit = members.get(group_of.get(w), (w,))
            seen.update(unit)
            frontier.extend(unit)

    for w in exits:
        visit(w)
    while frontier:
        for s in graph.node_users(frontier.pop()):
            if any(s in p for p in parts):
                return False
            visit(s)
    return True


def fusion_groups(graph, order=None) -> list[list[int]]:
    """Maximal groups of fusible nodes whose fusion keeps the graph acyclic,
    each in topological order (size >= 2)."""
    order = graph.nodes() if order is None else order
    pos = {n: i for i, n in enumerate(order)}
    group_of: dict[int, int] = {}
    members: dict[int, set] = {}
    exits: dict[int, set] = {}  # group id -> successors outside the group
    for n in order:
        if not _fusible(graph, n):
            continue
        parts, out, merged = [{n}], set(graph.node_users(n)), []
        for gid in sorted({group_of[u] for u, _ in graph.inputs_of(n) if u in group_of
                           and graph.device(u) == graph.device(n)}):
            trial = parts + [members[gid]]
            trial_out = {w for w in out | exits[gid] if not any(w in p for p in trial)}
            if _convex(graph, trial, trial_out, pos, pos[n], group_of, members):
                parts, out = trial, trial_out
                merged.append(gid)
        # the union grows its largest part in place and keeps its id: O(n log n) overall
        gid = max(merged, key=lambda g: len(members[g]), default=n)
        union = members[gid] if merged else parts[0]
        for g in merged:
            part = members.pop(g)
            del exits[g]
            if g != gid:
                union |= part
                group_of.update((m, gid) for m in part)
        union.add(n)
        group_of[n] = gid
        members[gid], exits[gid] = union, out
    return [sorted(g, key=pos.get) for g in members.values() if len(g) > 1]


def fuse_group(graph, group: list[int]) -> int:
    """Replace ``group`` (topologically ordered) by one FusedElementwise node; its id."""
    inside = set(group)
    ext = list(dict.fromkeys(v for m in group for v in graph.inputs_of(m) if v[0] not in inside))
    ref = {v: i for i, v in enumerate(ext)}
    program = []
    for m in group:
        program.append((graph.op(m), tuple(ref[v] for v in graph.inputs_of(m))))
        ref[(m, 0)] = len(ext) + len(program) - 1
    outputs = [(m, 0) for m in group if (m, 0) in graph.outputs
               or any(u not in inside for u, _ in graph.users((m, 0)))]
    if not outputs:  # nothing uses the group (dce disabled): leave it to prune
        return -1
    op = FusedElementwise(tuple(program), len(ext), tuple(ref[v] for v in outputs))
    fused = graph.add(op, ext, names=[graph.names(m)[k] for m, k in outputs],
                      types=[graph.type(v) for v in outputs],  # as inferred for the members
                      device=graph.device(group[0]))
    for k, v in enumerate(outputs):
        graph.replace_all_uses(v, (fused, k))
    graph.remove_nodes(group)
    return fused


@register_pass("fuse_elementwise", phase=Phase.PRE_PLACEMENT, opt_level=2, after=["cse", "dce"])
def fuse_elementwise(graph, ctx) -> bool:
    """Fuse maximal convex groups of elementwise ops into FusedElementwise nodes."""
    return any([fuse_group(graph, group) >= 0 for group in fusion_groups(graph, topo_order(graph, ctx))])
