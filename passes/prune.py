"""prune: keep only what the fetches and targets need (required at every level).

    %a = Exp(%x); %b = Log(%x); return %a      ->      %a = Exp(%x); return %a

Nodes reach the outputs or targets through data or dependency control
edges, so the stateful ops a target depends on stay; an order-only control
edge (a variable read before a later Assign) does not keep its source.
Placeholders stay: they are the signature the caller feeds.
"""
from __future__ import annotations

from netjit.compiler.ir.reachability import remove_unneeded

from .phase import Phase
from .registry import register_pass


@register_pass("prune", phase=Phase.PRE_PLACEMENT, opt_level=0, required=True)
def prune(graph, ctx) -> bool:
    """Remove every node no fetch or target needs."""
    return remove_unneeded(graph)
