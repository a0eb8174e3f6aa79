"""Partitioning: cut a placed graph per device, with Send/Recv on every cut edge.

``partition(graph)`` returns one graph per device used. A data edge between
devices becomes ``Send(key)`` on the producer's partition and ``Recv(key)`` on
the consumer's; a control edge becomes a control-only pair. Placeholders
(feeds) and constants are replicated into every partition that reads them
instead, so they never make one device wait for another.

Node ids of the placed graph are kept in its partitions and new nodes get
ids no other partition uses, so ``(device, node)`` names a node everywhere.
Splitting partitions into runnable segments is ``compiler.segments``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from netjit.errors import InvalidArgumentError

from .ir import Graph, Value
from .ops import CONTROL_TOKEN, Const, Placeholder, Recv, Send


@dataclass
class Partitioned:
    """Per-device graphs plus where each fetch of the placed graph ended up."""

    graphs: dict[str, Graph]
    #: Per output of the placed graph: (device, index into that partition's outputs).
    fetches: list[tuple[str, int]] = field(default_factory=list)
    #: Blob names of the placed graph's inputs (the run's feeds), in order.
    feeds: list[str] = field(default_factory=list)


def is_replicable(graph: Graph, n: int) -> bool:
    """Feeds and stateless constants: copied to each device that reads them."""
    op = graph.op(n)
    return isinstance(op, (Placeholder, Const)) and not graph.inputs_of(n) and not graph.control_inputs(n)


class _Cutter:
    def __init__(self, graph: Graph):
        self.g = graph
        devices = sorted({self._device(n) for n in graph.nx})
        self.parts = {d: Graph(f"{graph.name}@{d}") for d in devices}
        self.next_id = max(graph.nx, default=-1) + 1
        self.copies: dict[tuple, Value] = {}   # (value or ^node, device) -> local value

    def _device(self, n: int) -> str:
        dev = self.g.device(n)
        if dev is None:
            raise InvalidArgumentError(f"cannot partition graph {self.g.name!r}: node {n} "
                                       f"({self.g.op(n).name}) has no device; run placement first")
        return dev

    def _new(self, dev: str, op, inputs=(), names=None, types=None, why: str = "") -> int:
        n = self.parts[dev].add(op, inputs, names=names, device=dev, types=types, node_id=self.next_id)
        self.next_id += 1
        if why:
            self.parts[dev].meta(n)["placement"] = why
        return n

    def local(self, v: Value, dev: str) -> Value:
        """``v`` as seen on ``dev``: itself, a replica, or the output of a Recv."""
        src = self._device(v[0])
        if src == dev:
            return v
        key = (v, dev)
        if key not in self.copies:
            self.copies[key] = self._replicate(v, dev) if is_replicable(self.g, v[0]) else self._transfer(v, src, dev)
        return self.copies[key]

    def _replicate(self, v: Value, dev: str) -> Value:
        g, n = self.g, v[0]
        m = self._new(dev, g.op(n), names=g.names(n), types=g.types(n),
                      why=f"replicated from {g.device(n)} (a {g.op(n).name} is copied, not sent)")
        if n in g.inputs:
            self.parts[dev].inputs.append(m)
        return (m, 0)

    def _transfer(self, v: Value, src: str, dev: str) -> Value:
        g = self.g
        label = g.names(v[0])[v[1]] or f"%{v[0]}:{v[1]}"
        key = f"{src}->{dev}/{label}"
        self._new(src, Send(key), [v], why=f"sends to {dev}")
        r = self._new(dev, Recv(key, g.type(v)), names=[g.names(v[0])[v[1]]], why=f"receives from {src}")
        return (r, 0)

    def control(self, before: int, dev: str) -> int:
        """The local node that orders after ``before`` (itself, or a control Recv)."""
        src = self._device(before)
        if src == dev:
            return before
        key = (("^", before), dev)
        if key not in self.copies:
            label = f"^{self.g.names(before)[0] if self.g.names(before) and self.g.names(before)[0] else '%' + str(before)}"
            token = f"{src}->{dev}/{label}"
            s = self._new(src, Send(token), why=f"orders {dev} after it")
            self.parts[src].add_control(before, s)
            self.copies[key] = (self._new(dev, Recv(token, CONTROL_TOKEN), why=f"waits for {src}"), 0)
        return self.copies[key][0]

    def copy_node(self, n: int) -> None:
        g, dev = self.g, self._device(n)
        inputs = [self.local(v, dev) for v in g.inputs_of(n)]
        part = self.parts[dev]
        part.add(g.op(n), inputs, names=g.names(n), device=dev, types=g.types(n), node_id=n)
        part.meta(n).update(g.meta(n))
        for c, order_only in g.control_edges(n):
            part.add_control(self.control(c, dev), n, order_only)
        if n in g.inputs:
            part.inputs.append(n)
        if n in g.targets:
            part.targets.append(n)


def partition(graph: Graph) -> Partitioned:
    """One graph per device used by ``graph`` (which must be placed)."""
    cut = _Cutter(graph)
    for n in graph.nodes():
        cut.copy_node(n)
    out = Partitioned(cut.parts, feeds=[graph.name_of_input(n) for n in graph.inputs])
    for v in graph.outputs:
        part = cut.parts[cut._device(v[0])]
        part.outputs.append(v)
        out.fetches.append((graph.device(v[0]), len(part.outputs) - 1))
    return out


def feed_name(graph: Graph, n: int) -> Optional[str]:
    """The blob a partition input is fed under, or None if ``n`` is no input."""
    return graph.name_of_input(n) if n in graph.inputs else None
