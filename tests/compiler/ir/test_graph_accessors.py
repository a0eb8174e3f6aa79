"""Graph's fast accessors agree with networkx's views; broadcasting and the one-segment split
agree with their general forms.

The accessors read networkx's adjacency dicts directly (its views cost
microseconds per call); these properties pin them to what the views say.
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, strategies as st

from netjit.compiler.ir import Graph
from netjit.compiler.ops import Add, Mul, Placeholder, Relu, TensorType, as_dtype
from netjit.compiler.ops.types import broadcast_shapes
from netjit.compiler.partition import partition
from netjit.compiler.placement import Placer
from netjit.compiler.segments import _one_segment, _split_levels
from netjit.errors import InvalidArgumentError

from strategies import random_graph


def _with_control_edges(g, data):
    order = g.nodes()
    for _ in range(data.draw(st.integers(0, 4)) if len(order) > 1 else 0):
        i, j = sorted(data.draw(st.lists(st.integers(0, len(order) - 1), min_size=2, max_size=2, unique=True)))
        g.add_control(order[i], order[j], order_only=data.draw(st.booleans()))
    return g


@given(random_graph(max_nodes=12), st.data())
def test_accessors_agree_with_networkx_views(graph_and_feeds, data):
    g = _with_control_edges(graph_and_feeds[0], data)
    assert g.nodes() == list(nx.lexicographical_topological_sort(g.nx))
    for n in g.nx:
        in_edges = list(g.nx.in_edges(n, data=True))
        assert g.inputs_of(n) == [v for _, v in sorted((d["dst_in"], (u, d["src_out"]))
                                                        for u, _, d in in_edges if not d["control"])]
        assert g.control_inputs(n) == sorted({u for u, _, d in in_edges if d["control"]})
        assert g.control_edges(n) == sorted((u, bool(d.get("order_only"))) for u, _, d in in_edges
                                            if d["control"])
        assert g.node_users(n) == sorted(set(g.nx.successors(n)))
        for k in range(len(g.types(n))):
            assert g.users((n, k)) == sorted((w, d["dst_in"]) for _, w, d in g.nx.out_edges(n, data=True)
                                             if not d["control"] and d["src_out"] == k)
    roots = data.draw(st.sets(st.sampled_from(sorted(g.nx)), max_size=3))
    want = set(roots).union(*(nx.ancestors(g.dependency_view(), r) for r in roots))
    assert g.needed_by(roots) == want


def test_nodes_rejects_a_cycle():
    g = Graph("cyclic")
    x = g.add(Placeholder(np.float32, (2,)))
    a = g.add(Relu(), [(x, 0)])
    b = g.add(Relu(), [(a, 0)])
    g.add_control(b, a)
    with pytest.raises(nx.NetworkXUnfeasible):
        g.nodes()


def test_an_op_reading_one_value_twice_gets_two_edges():
    g = Graph("twice")
    x = g.add(Placeholder(np.float32, (2,)))
    m = g.add(Mul(), [(x, 0), (x, 0)])
    s = g.add(Add(), [(m, 0), (x, 0)])
    assert g.inputs_of(m) == [(x, 0), (x, 0)] and g.inputs_of(s) == [(m, 0), (x, 0)]
    assert g.users((x, 0)) == [(m, 0), (m, 1), (s, 1)]


def _broadcast_spec(*shapes):
    """Broadcasting with unknown dims, as the spec reads: per axis from the right, the
    known dims other than 1 must agree; unknown if none is known and one is None."""
    if any(s is None for s in shapes):
        return None
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError("clash")
        out.append(known.pop() if known else (None if None in dims else 1))
    return tuple(out)


_dim = st.sampled_from([None, 1, 1, 2, 3])
_shape = st.one_of(st.none(), st.lists(_dim, max_size=3).map(tuple))


@given(st.lists(_shape, min_size=1, max_size=4))
def test_broadcast_shapes_follows_the_spec(shapes):
    try:
        want = _broadcast_spec(*shapes)
    except ValueError:
        with pytest.raises(ValueError, match="do not broadcast"):
            broadcast_shapes(*shapes)
        return
    assert broadcast_shapes(*shapes) == want


@given(st.lists(st.lists(st.sampled_from([1, 2, 3]), max_size=3).map(tuple), min_size=1, max_size=4))
def test_broadcast_shapes_of_known_dims_is_numpys(shapes):
    try:
        want = np.broadcast_shapes(*shapes)
    except ValueError:
        with pytest.raises(ValueError):
            broadcast_shapes(*shapes)
        return
    assert broadcast_shapes(*shapes) == want


def test_as_dtype_is_stable_under_its_cache():
    for spelling in ("f32", "float32", np.float32, np.dtype("float32")):
        assert as_dtype(spelling) is as_dtype(spelling) == np.dtype(np.float32)
    assert as_dtype(str) == as_dtype(np.dtype("U5")) == np.dtype(object)
    for _ in range(2):                            # an error is not cached as an answer
        with pytest.raises(InvalidArgumentError, match="complex64 is not supported"):
            as_dtype(np.complex64)
    assert TensorType("f64", (None, 2)).dtype == np.dtype(np.float64)


@given(random_graph(max_nodes=12))
def test_one_partition_splits_as_the_general_splitter_does(graph_and_feeds):
    g, _ = graph_and_feeds
    Placer(["cpu:0"]).place(g)
    parts = partition(g)
    fast, general = _one_segment(parts, "r"), _split_levels(parts, False, "r")
    assert fast.fetches == general.fetches and fast.feeds == general.feeds
    assert len(fast.segments) == len(general.segments) <= 1
    for a, b in zip(fast.segments, general.segments):
        assert (a.name, a.device, a.inputs, a.outputs, a.after, a.level, a.feeds, a.has_host_ops) == \
               (b.name, b.device, b.inputs, b.outputs, b.after, b.level, b.feeds, b.has_host_ops)
        assert str(a.graph) == str(b.graph)
