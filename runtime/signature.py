"""What a run or a callable asks for: fetch names and structure, feed names, targets.

Parsing a fetch structure costs more than a cached run, so ``Session.run``
keeps one ``RunSignature`` per (fetches, feed names, targets) it has seen and
reuses it, together with the CompiledStep it was last bound to.
"""
from __future__ import annotations

from typing import Any, Hashable, Optional

from netjit.compiler.frontend.net import Net, OpDef
from netjit.compiler.ir import Graph
from netjit.errors import InvalidArgumentError, UnimplementedError

from .fetch import flatten_fetches


def blob_names(blobs) -> list[str]:
    """A blob, a list of blobs, or None, as a list of names."""
    if blobs is None:
        return []
    if isinstance(blobs, str):
        return [str(blobs)]
    return [str(b) for b in blobs]


def freeze(blobs) -> Optional[Hashable]:
    """A hashable stand-in for a flat fetch or target spec; None for nested structures."""
    if blobs is None or isinstance(blobs, str):
        return blobs
    if type(blobs) in (list, tuple) and all(isinstance(b, str) for b in blobs):
        return (type(blobs), tuple(blobs))
    return None


class RunSignature:
    """The parsed (fetches, feeds, targets) of a run, and its last CompiledStep."""

    __slots__ = ("fetch_names", "rebuild", "feed_names", "target_names", "step")

    def __init__(self, fetches: Any, feed_names, targets=None):
        self.fetch_names, self.rebuild = flatten_fetches(fetches)
        self.feed_names = [str(k) for k in feed_names]
        if len(set(self.feed_names)) != len(self.feed_names):
            dup = sorted({n for n in self.feed_names if self.feed_names.count(n) > 1})
            raise InvalidArgumentError(f"blob {dup[0]!r} fed more than once")
        self.target_names = blob_names(targets)
        if not self.fetch_names and not self.target_names:
            raise InvalidArgumentError("Must specify at least one target to fetch or execute.")
        self.step = None


def program_ops(net_or_graph) -> tuple[str, list[OpDef]]:
    """The name and ops of a Net, or of an IR Graph read back as a program.

    A Graph becomes one OpDef per node in topological order, its unnamed values
    named ``<graph>/%<node>:<out>``; explicit control edges are not kept (the
    ordering of variables and host ops is re-derived by lowering), and
    variable updates (already resolved in the IR) are not supported.
    """
    if isinstance(net_or_graph, Net):
        return net_or_graph.name, list(net_or_graph.ops)
    if not isinstance(net_or_graph, Graph):
        raise InvalidArgumentError(f"expected a Net or an IR Graph, got {type(net_or_graph).__name__}")
    g = net_or_graph
    ops = []
    for n in g.nodes():
        op = g.op(n)
        if op.name in ("Assign", "AssignAdd"):
            raise UnimplementedError(f"graph {g.name!r}: node {n} ({op.name}) updates a variable; "
                                     "give the session the Net instead")
        names = tuple(nm or f"{g.name}/%{n}:{i}" for i, nm in enumerate(g.names(n)))
        inputs = tuple(g.names(v[0])[v[1]] or f"{g.name}/%{v[0]}:{v[1]}" for v in g.inputs_of(n))
        ops.append(OpDef(op.name, inputs, names, op, g.device(n)))
    return g.name, ops
