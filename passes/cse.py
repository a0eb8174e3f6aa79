"""cse: common-subexpression elimination.

    %a = Mul(%x, %y); %b = Mul(%y, %x); %c = Add(%a, %b)
        ->  %a = Mul(%x, %y); %c = Add(%a, %a)

Two nodes merge when they have equal ops (ops are value objects, so equal
attributes and equal constants compare equal), the same inputs (in any
order for commutative binary ops), the same control inputs (of the same kind) and the same
device. Stateful and host ops, placeholders, targets and ops on different
devices never merge.
"""
from __future__ import annotations

from .phase import Phase
from .registry import register_pass
from .rewrite import is_effectful, replace_node, topo_order


def cse_key(graph, n) -> tuple:
    """What makes two nodes compute the same value."""
    op = graph.op(n)
    ins = tuple(graph.inputs_of(n))
    if op.commutative and len(ins) == 2:
        ins = tuple(sorted(ins))
    return (op, ins, tuple(graph.control_edges(n)), graph.device(n))


@register_pass("cse", phase=Phase.PRE_PLACEMENT, opt_level=1, after=["fold_constants"])
def cse(graph, ctx) -> bool:
    """Merge nodes that compute the same value from the same inputs."""
    seen: dict = {}
    changed = False
    for n in topo_order(graph, ctx):
        if is_effectful(graph, n):
            continue
        key = cse_key(graph, n)
        first = seen.setdefault(key, n)
        if first != n:
            replace_node(graph, n, first)
            changed = True
    return changed

