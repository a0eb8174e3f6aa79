"""Graph.verify(): the IR's invariants, each failure naming the node."""
from __future__ import annotations

import dataclasses

import networkx as nx

from netjit.errors import InvalidArgumentError

import numpy as np

from ..ops import ConstValue, InferError, TensorType


#: Declared attribute annotations checked by ``check_attr_types`` (others are free).
_ATTR_KINDS = {"int": (int, np.integer), "bool": (bool, np.bool_), "str": str, "tuple": tuple,
               "float": (float, int, np.floating, np.integer), "np.dtype": np.dtype,
               "ConstValue": ConstValue, "TensorType": TensorType}


def attr_fits(field: dataclasses.Field, value, bool_is_number: bool = True) -> bool:
    """Does ``value`` fit the op field's declared type? A bool never fits an int
    field, nor (with ``bool_is_number=False``, as readers of saved files ask) a float one."""
    ann = str(field.type)
    optional = ann.startswith("Optional[") and ann.endswith("]")
    inner = ann[len("Optional["):-1] if optional else ann
    kinds = _ATTR_KINDS.get(inner)
    if kinds is None or (value is None and (optional or field.default is None)):
        return True
    if isinstance(value, (bool, np.bool_)) and (inner == "int" or (inner == "float" and not bool_is_number)):
        return False
    return isinstance(value, kinds)


def check_attr_types(op) -> None:
    """Raise InferError if an attribute's value does not fit its declared type."""
    for f in dataclasses.fields(op):
        value = getattr(op, f.name)
        if not attr_fits(f, value):
            raise InferError(f"attribute {f.name}={value!r} is not {f.type}")


def _describe(graph, n) -> str:
    names = [nm for nm in graph.names(n) if nm]
    return f"node {n} ({graph.op(n).name}{' ' + repr(names[0]) if names else ''})"


def _check_control_edges(graph, n) -> None:
    """At most one control edge per pair of nodes; only control edges are order-only."""
    seen = set()
    for u, _, d in graph.nx.in_edges(n, data=True):
        if not d["control"]:
            if d.get("order_only"):
                raise InvalidArgumentError(f"{_describe(graph, n)}: the data edge from node {u} "
                                           "is marked order-only (only control edges can be)")
            continue
        if u in seen:
            raise InvalidArgumentError(f"{_describe(graph, n)}: more than one control edge from node {u}")
        seen.add(u)


def verify(graph) -> None:
    """Raise InvalidArgumentError unless ``graph`` is well formed.

    Checks: acyclic; every input port filled exactly once; attributes valid
    for the op (re-running its constructor checks); recorded types equal to
    inference; control edges between existing nodes, at most one per pair,
    ``order_only`` only on control edges (order-only edges count for
    acyclicity: they order the nodes); outputs exist.
    """
    g = graph.nx
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        raise InvalidArgumentError(f"graph {graph.name!r} has a cycle through nodes "
                                   f"{[e[0] for e in cycle]}")
    for n in g:
        data = g.nodes[n]
        op = data["op"]
        ports = sorted(d["dst_in"] for _, _, d in g.in_edges(n, data=True) if not d["control"])
        arity = len(ports)
        if ports != list(range(arity)):
            raise InvalidArgumentError(f"{_describe(graph, n)}: input ports {ports} are not "
                                       f"filled exactly once each (expected 0..{arity - 1})")
        try:
            op.check_arity(arity)
            check_attr_types(op)
            dataclasses.replace(op)  # re-runs the attribute checks
        except (InferError, TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"{_describe(graph, n)}: bad op: {exc}") from None
        _check_control_edges(graph, n)
        for u, _, d in g.in_edges(n, data=True):
            if not d["control"] and not 0 <= d["src_out"] < len(g.nodes[u]["types"]):
                raise InvalidArgumentError(f"{_describe(graph, n)}: reads output {d['src_out']} "
                                           f"of node {u}, which has {len(g.nodes[u]['types'])}")
        try:
            inferred = op.infer(*(graph.type(v) for v in graph.inputs_of(n)))
        except InferError as exc:
            raise InvalidArgumentError(f"{_describe(graph, n)}: {exc}") from None
        if tuple(inferred) != tuple(data["types"]):
            raise InvalidArgumentError(
                f"{_describe(graph, n)}: recorded types {[str(t) for t in data['types']]} "
                f"differ from inferred {[str(t) for t in inferred]}")
        if len(data["names"]) != len(data["types"]):
            raise InvalidArgumentError(f"{_describe(graph, n)}: {len(data['names'])} names "
                                       f"for {len(data['types'])} outputs")
    for v in graph.outputs:
        if v[0] not in g or not 0 <= v[1] < len(g.nodes[v[0]]["types"]):
            raise InvalidArgumentError(f"graph {graph.name!r}: output {v} does not exist")
    for n in graph.inputs:
        if n not in g:
            raise InvalidArgumentError(f"graph {graph.name!r}: input node {n} does not exist")
