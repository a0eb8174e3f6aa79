"""Reachability: which nodes the graph's outputs and targets need, and removing the rest.

A node is needed through data edges and dependency control edges. An
order-only control edge ("if both run, the read comes first") makes nothing
needed: fetching an Assign does not run an earlier read of its variable.
Such an edge simply goes away with its pruned end.
"""
from __future__ import annotations


def needed_nodes(graph) -> set[int]:
    """Nodes the outputs and targets depend on (data and dependency control edges)."""
    return graph.needed_by({n for n, _ in graph.outputs} | set(graph.targets))


def remove_unneeded(graph) -> bool:
    """Remove every node that no output or target needs; True if any was removed.

    Unused inputs stay: they are part of the signature the caller feeds.
    """
    keep = needed_nodes(graph) | set(graph.inputs)
    dead = [n for n in graph.nx if n not in keep]
    graph.remove_nodes(dead)
    return bool(dead)
