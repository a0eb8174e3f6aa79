"""Segments: the units the runtime schedules, one generated function each.

A partition cannot always run as one function: with edges A -> B -> A across
devices, A's partition would wait for B in the middle. Each node therefore
gets a *level*, the largest number of device crossings on a path to it, and
the nodes of one device and level form a segment. Levels never decrease along
an edge and grow across devices, so the segments form a DAG and each runs to
completion once its inputs arrived. Nodes without inputs sink to the level of
their consumers, so a constant does not make a segment of its own.

For partial runs (``by_feeds=True``) the set of feeds a node depends on is
part of its segment's key too, so what the first feeds can compute does not
wait for the later ones.

A segment is an ordinary ``Graph``: its inputs are Placeholders (fed from the
run's feeds or from other segments), its outputs the values it sends or the
run returns; ``backend.compile(segment.graph)`` turns it into a function.
Values travel under *keys*: ``("feed", blob)`` or ``("value", name)``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx

from netjit.errors import InvalidArgumentError

from .ir import Graph, Value
from .ops import Placeholder, Recv, Send
from .partition import Partitioned

Key = tuple[str, str]


@dataclass
class Segment:
    """One schedulable piece of one partition."""

    name: str
    device: str
    graph: Graph
    #: Key of each graph input, in order.
    inputs: tuple[Key, ...]
    #: Keys each graph output fills (a value can be sent and fetched).
    outputs: tuple[tuple[Key, ...], ...]
    #: Indices of the segments that must finish first.
    after: tuple[int, ...]
    level: int = 0
    #: Feeds this segment reads directly.
    feeds: frozenset = frozenset()
    has_host_ops: bool = False


@dataclass
class Segmentation:
    segments: list[Segment] = field(default_factory=list)
    #: Key of each fetch, in the placed graph's output order.
    fetches: list[Key] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)


_SEGMENT_NAME = re.compile(r"(?P<net>.+)/(?P<segment>[a-z]+:\d+/s\d+)\Z")


def segment_name(net: str, device: str, index: int) -> str:
    """The name of a net's segment: ``mlp/cpu:0/s1``."""
    return f"{net}/{device}/s{index}"


def describe_graph(name: str) -> str:
    """``net 'mlp' (segment cpu:0/s1)`` for a segment's graph name, ``net 'g'`` for any other."""
    m = _SEGMENT_NAME.match(name)
    return f"net {m['net']!r} (segment {m['segment']})" if m else f"net {name!r}"


def value_key(graph: Graph, device: str, v: Value) -> Key:
    """The key a value of a partition travels under."""
    op = graph.op(v[0])
    if v[0] in graph.inputs:
        return ("feed", graph.name_of_input(v[0]))
    if isinstance(op, Recv):
        return ("value", op.key)
    return ("value", f"{device}/%{v[0]}:{v[1]}")


class _Splitter:
    def __init__(self, parts: Partitioned, by_feeds: bool):
        self.parts = parts.graphs
        self.by_feeds = by_feeds
        self.flow = self._flow_graph()
        self.level: dict = {}
        self.fset: dict = {}
        self.group: dict = {}

    def _flow_graph(self) -> nx.DiGraph:
        flow, sends = nx.DiGraph(), {}
        for d, g in self.parts.items():
            flow.add_nodes_from((d, n) for n in g.nx)
            flow.add_edges_from(((d, u), (d, w)) for u, w in g.nx.edges())
            sends.update({g.op(n).key: (d, n) for n in g.nx if isinstance(g.op(n), Send)})
        for d, g in self.parts.items():
            flow.add_edges_from((sends[g.op(n).key], (d, n)) for n in g.nx if isinstance(g.op(n), Recv))
        return flow

    def free(self, x) -> bool:
        """Feeds and Recvs belong to no segment: each segment reading one gets a Placeholder."""
        d, n = x
        return n in self.parts[d].inputs or isinstance(self.parts[d].op(n), Recv)

    def assign(self) -> None:
        order = list(nx.lexicographical_topological_sort(self.flow))
        for x in order:
            d, n = x
            preds = list(self.flow.predecessors(x))
            lv = max((self.level[p] for p in preds), default=0)
            fs = frozenset().union(*(self.fset[p] for p in preds))
            if isinstance(self.parts[d].op(n), Recv):
                lv += 1
            if n in self.parts[d].inputs:
                lv, fs = 0, frozenset([self.parts[d].name_of_input(n)])
            self.level[x], self.fset[x] = lv, fs
        for x in reversed(order):
            if not self.free(x):
                if not any(True for _ in self.flow.predecessors(x)):
                    self._sink(x)
                self.group[x] = (x[0], self.level[x], self.fset[x] if self.by_feeds else frozenset())

    def _sink(self, x) -> None:
        """Move a node without inputs to its earliest consumer's segment, when that is safe."""
        succ = [(self.level[s], self.fset[s]) for s in self.flow.successors(x)]
        if not succ:
            return
        lv, fs = min(succ, key=lambda k: (k[0], len(k[1])))
        if all(lv <= l2 and fs <= f2 for l2, f2 in succ):
            self.level[x], self.fset[x] = lv, fs

    def producers_group(self, x):
        """The group ``x``'s value comes from (None for a feed)."""
        d, n = x
        if n in self.parts[d].inputs:
            return None
        if isinstance(self.parts[d].op(n), Recv):
            return self.group.get(next(iter(self.flow.predecessors(x))))
        return self.group[x]

    def group_order(self) -> list:
        deps = nx.DiGraph()
        deps.add_nodes_from(set(self.group.values()))
        for x, gk in self.group.items():
            for p in self.flow.predecessors(x):
                pg = self.producers_group(p)
                if pg is not None and pg != gk:
                    deps.add_edge(pg, gk)
        key = lambda gk: (gk[1], gk[0], len(gk[2]), sorted(gk[2]))  # noqa: E731
        return list(nx.lexicographical_topological_sort(deps, key=key)), deps


def split(parts: Partitioned, by_feeds: bool = False, name: str = "graph") -> Segmentation:
    """Split partitions into segments; see the module docstring.

    Raises InvalidArgumentError for a Recv whose key no Send of the run sends
    (a user-built Recv): it could only wait forever.
    """
    _check_rendezvous_keys(parts)
    if len(parts.graphs) == 1 and not by_feeds:
        return _one_segment(parts, name)
    return _split_levels(parts, by_feeds, name)


def _check_rendezvous_keys(parts: Partitioned) -> None:
    sent = {g.op(n).key for g in parts.graphs.values() for n in g.nodes() if isinstance(g.op(n), Send)}
    for dev, g in parts.graphs.items():
        for n in g.nodes():
            op = g.op(n)
            if isinstance(op, Recv) and op.key not in sent:
                blob = next((b for b in g.names(n) if b), f"%{n}")
                raise InvalidArgumentError(f"Recv {blob!r} on {dev} waits for rendezvous key {op.key!r}, "
                                           "which no Send of this run sends")


def _split_levels(parts: Partitioned, by_feeds: bool, name: str) -> Segmentation:
    """The general ``split``: segments by (device, level, feed set)."""
    sp = _Splitter(parts, by_feeds)
    sp.assign()
    order, deps = sp.group_order()
    index = {gk: i for i, gk in enumerate(order)}
    segmentation = Segmentation(feeds=list(parts.feeds))
    exported = _exports(sp, segmentation, parts)
    for gk in order:
        d = gk[0]
        nodes = [n for n in sp.parts[d].nodes() if sp.group.get((d, n)) == gk]
        seg = _build(sp.parts[d], d, nodes, exported, segment_name(name, d, len(segmentation.segments)))
        seg.after = tuple(sorted(index[p] for p in deps.predecessors(gk)))
        seg.level = gk[1]
        segmentation.segments.append(seg)
    return segmentation


def _one_segment(parts: Partitioned, name: str) -> Segmentation:
    """``split`` of one partition without feed sets: every level is 0, so one segment
    (none if the run only fetches feeds)."""
    ((dev, g),) = parts.graphs.items()
    segmentation = Segmentation(feeds=list(parts.feeds))
    inputs = set(g.inputs)
    exported = set()
    for _, k in parts.fetches:
        v = g.outputs[k]
        segmentation.fetches.append(value_key(g, dev, v))
        if v[0] not in inputs:
            exported.add((dev, v))
    nodes = [n for n in g.nodes() if n not in inputs]
    if nodes:
        segmentation.segments.append(_build(g, dev, nodes, exported, segment_name(name, dev, 0)))
    return segmentation


def _exports(sp: _Splitter, segmentation: Segmentation, parts: Partitioned) -> set:
    """(device, value) pairs some other segment reads or the run fetches."""
    out = set()
    for d, g in sp.parts.items():
        for u, w, data in g.nx.edges(data=True):
            if not data["control"] and not sp.free((d, u)) and sp.group[(d, u)] != sp.group.get((d, w)):
                out.add((d, (u, data["src_out"])))
    for d, k in parts.fetches:
        g = sp.parts[d]
        v = g.outputs[k]
        segmentation.fetches.append(value_key(g, d, v))
        if not sp.free((d, v[0])):
            out.add((d, v))
    return out


def _build(part: Graph, dev: str, nodes: list, exported: set, name: str) -> Segment:
    g = Graph(name)
    members = set(nodes)
    local: dict[Value, Value] = {}
    node_map: dict[int, int] = {}
    in_keys, outputs = [], {}

    def use(v: Value) -> Value:
        if v not in local:
            key = value_key(part, dev, v)
            blob = key[1] if key[0] == "feed" else (part.names(v[0])[v[1]] or key[1])
            t = part.type(v)
            ph = g.add(Placeholder(t.dtype, t.shape), names=[blob], types=[t])
            g.inputs.append(ph)
            in_keys.append(key)
            local[v] = (ph, 0)
        return local[v]

    for n in nodes:
        op = part.op(n)
        if isinstance(op, Send):
            if part.inputs_of(n):
                outputs.setdefault(use(part.inputs_of(n)[0]), []).append(("value", op.key))
            continue
        m = g.add(op, [use(v) for v in part.inputs_of(n)], names=part.names(n), device=dev,
                  types=part.types(n))
        g.meta(m).update(part.meta(n))
        node_map[n] = m
        for c, order_only in part.control_edges(n):
            if c in members and c in node_map:  # across segments, ``after`` orders them
                g.add_control(node_map[c], m, order_only)
        for i in range(len(part.types(n))):
            local[(n, i)] = (m, i)
            if (dev, (n, i)) in exported:
                outputs.setdefault((m, i), []).append(value_key(part, dev, (n, i)))
        if n in part.targets or op.stateful or _orders_a_send(part, n):
            g.targets.append(m)   # effects and orderings must run even when nothing reads them
    g.outputs = list(outputs)
    host = any(g.op(n).host for n in g.nx)
    return Segment(name, dev, g, tuple(in_keys), tuple(tuple(k) for k in outputs.values()), (),
                   feeds=frozenset(k[1] for k in in_keys if k[0] == "feed"), has_host_ops=host)


def _orders_a_send(part: Graph, n: int) -> bool:
    """True if a control-only Send waits for ``n`` (another device orders after it)."""
    return any(isinstance(part.op(w), Send) and n in part.control_inputs(w) for w in part.node_users(n))
