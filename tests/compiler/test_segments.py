"""Splitting partitions into segments (compiler/segments.py).

A segment runs to completion once its inputs arrived, so the segments of a
run must form a DAG in which every cross-device value flows from an earlier
segment to a later one, and every node of every partition lands in exactly
one segment.
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import netjit as nj
from netjit.compiler.frontend.lowering import lower_net
from netjit.compiler.ops import Const, Placeholder, Recv, Send, TensorType
from netjit.compiler.partition import partition
from netjit.compiler.placement import Placer
from netjit.compiler.segments import split

F32 = TensorType(np.float32, (None, 3))


def placed_graph(net, fetch: str, devices=("cpu:0", "cpu:1")):
    lowered = lower_net(net.ops, net.name, {"x": F32})
    graph = lowered.graph
    graph.outputs = [lowered.blobs[fetch]]
    Placer(list(devices)).place(graph)
    return graph


def ping_pong():
    """x -> a (cpu:0) -> b (cpu:1) -> c (cpu:0): cpu:0's partition waits for cpu:1 in the middle."""
    net = nj.Net("pingpong")
    x = net.Placeholder("x", np.float32, (None, 3))
    with nj.device("cpu:0"):
        a = net.Exp(x, "a")
    with nj.device("cpu:1"):
        b = net.Tanh(a, "b")
    with nj.device("cpu:0"):
        net.Add([a, b], "c")
    return net


def segment_names(segmentation) -> list[tuple[str, int]]:
    return [(s.device, s.level) for s in segmentation.segments]


def test_one_device_is_one_segment_with_the_fetch_as_output():
    net = nj.Net("one")
    x = net.Placeholder("x", np.float32, (None, 3))
    net.Relu(net.Exp(x), "y")
    graph = placed_graph(net, "y", devices=("cpu:0",))
    segmentation = split(partition(graph), name="one")
    (seg,) = segmentation.segments
    assert seg.name == "one/cpu:0/s0"
    assert seg.inputs == (("feed", "x"),)
    assert segmentation.fetches == [seg.outputs[0][0]]
    assert seg.after == ()


def test_a_round_trip_between_devices_makes_three_levels():
    graph = placed_graph(ping_pong(), "c")
    segmentation = split(partition(graph), name="pp")
    assert segment_names(segmentation) == [("cpu:0", 0), ("cpu:1", 1), ("cpu:0", 2)]
    assert [s.after for s in segmentation.segments] == [(), (0,), (0, 1)]


def test_every_value_a_segment_reads_comes_from_an_earlier_segment_or_a_feed():
    segmentation = split(partition(placed_graph(ping_pong(), "c")), name="pp")
    produced_by = {}
    for i, seg in enumerate(segmentation.segments):
        for keys in seg.outputs:
            for k in keys:
                produced_by[k] = i
    for i, seg in enumerate(segmentation.segments):
        for key in seg.inputs:
            assert key[0] == "feed" or produced_by[key] < i
            if key[0] != "feed":
                assert produced_by[key] in seg.after


def test_segments_form_a_dag_and_cover_every_computing_node_once():
    parts = partition(placed_graph(ping_pong(), "c"))
    segmentation = split(parts, name="pp")
    deps = nx.DiGraph([(a, i) for i, s in enumerate(segmentation.segments) for a in s.after])
    assert nx.is_directed_acyclic_graph(deps)
    computing = sum(1 for g in parts.graphs.values() for n in g.nodes()
                    if not isinstance(g.op(n), (Placeholder, Recv, Send, Const)))
    in_segments = sum(1 for s in segmentation.segments for n in s.graph.nodes()
                      if not isinstance(s.graph.op(n), (Placeholder, Recv, Send, Const)))
    assert in_segments == computing


def test_by_feeds_keeps_what_the_first_feed_computes_apart_from_the_second():
    net = nj.Net("twofeeds")
    x = net.Placeholder("x", np.float32, (None, 3))
    y = net.Placeholder("y", np.float32, (None, 3))
    ex = net.Exp(x, "ex")
    net.Add([ex, net.Tanh(y)], "z")
    lowered = lower_net(net.ops, net.name, {"x": F32, "y": F32})
    graph = lowered.graph
    graph.outputs = [lowered.blobs["z"], lowered.blobs["ex"]]
    Placer(["cpu:0"]).place(graph)
    together = split(partition(graph), name="t")
    apart = split(partition(graph), by_feeds=True, name="t")
    assert len(together.segments) == 1
    reads = [{k[1] for k in s.inputs if k[0] == "feed"} for s in apart.segments]
    assert sorted(map(sorted, reads)) == [[], ["x"], ["y"]]
    last = apart.segments[reads.index(set())]       # z = ex + tanh(y) waits for both
    assert len(last.after) == 2


def test_a_recv_that_no_send_feeds_is_refused_at_compile():
    """It could only wait forever; it was a KeyError deep in the splitter."""
    from netjit.errors import InvalidArgumentError
    net = nj.Net("orphan")
    x = net.Placeholder("x", np.float32, (3,))
    with nj.device("cpu:1"):
        r = net.Recv([], "r", key="k", type=TensorType(np.float32, (3,)))
    with nj.device("cpu:0"):
        y = net.Add([x, r], "y")
    for backend in ("reference", "numba"):
        config = nj.SessionConfig(device_count={"cpu": 2}, backend=backend, tiered=False)
        with nj.Session(net, config) as sess:
            with pytest.raises(InvalidArgumentError, match="Recv 'r' on cpu:1 waits for rendezvous key 'k'"):
                sess.run(y, {"x": np.ones(3, np.float32)})
