"""dce: dead-code elimination of pure nodes whose results nobody uses.

    %t = Mul(%x, %x)      (no users, not fetched)     ->     (removed)

Unlike ``prune`` it needs no reachability from the outputs: it removes
unused pure nodes and then their producers, so it is cheap to run after any
rewrite. Stateful and host ops, inputs and targets are never removed.
"""
from __future__ import annotations

from .phase import Phase
from .registry import register_pass
from .rewrite import sweep, topo_order


@register_pass("dce", phase=Phase.PRE_PLACEMENT, opt_level=1, after=["prune", "cse"])
def dce(graph, ctx) -> bool:
    """Remove unused pure nodes, transitively."""
    return sweep(graph, topo_order(graph, ctx)) > 0
