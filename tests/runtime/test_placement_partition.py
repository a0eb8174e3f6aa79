"""Placement (devices, scopes, colocation, pins, reasons) and partitioning into segments."""
from __future__ import annotations

import logging

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, strategies as st

import netjit as nj
from netjit.backends.reference import evaluate
from netjit.compiler.ops import Placeholder, Recv, Send, TensorType
from netjit.compiler.partition import partition
from netjit.compiler.pipeline import build_graph
from netjit.compiler.placement import Placer, local_devices
from netjit.compiler.segments import split
from netjit.errors import InvalidArgumentError

from _session_helpers import ping_pong_expected, ping_pong_net, session

F32 = TensorType(np.float32, (None, 3))


def placed(net, fetches, devices=("cpu:0", "cpu:1"), feeds=None, **kw):
    graph, _ = build_graph(net.ops, net.name, {"x": F32} if feeds is None else feeds, fetches)
    Placer(list(devices), **kw).place(graph)
    return graph


def by_name(graph):
    return {graph.names(n)[0]: n for n in graph.nodes() if graph.names(n) and graph.names(n)[0]}


def test_local_devices_from_device_count():
    assert [d.name for d in local_devices({"CPU": 3})] == ["cpu:0", "cpu:1", "cpu:2"]
    assert [d.name for d in local_devices(None)] == ["cpu:0"]
    with pytest.raises(InvalidArgumentError, match="only 'cpu'"):
        local_devices({"gpu": 1})


def test_list_devices_many_cpus():
    # session_test.py testManyCPUs: device_count {'CPU': 2} -> 2 CPU devices
    with session(ping_pong_net(), devices=2) as s:
        devs = s.list_devices()
    assert [(d.kind, d.index, d.name) for d in devs] == [("cpu", 0, "cpu:0"), ("cpu", 1, "cpu:1")]


def test_every_node_records_why_it_is_where_it_is():
    net = ping_pong_net()
    net.Relu("c", "d")                      # unplaced: follows its input
    g = placed(net, ["d"])
    names = by_name(g)
    assert g.device(names["a"]) == "cpu:0" and "explicit scope cpu:0" in g.meta(names["a"])["placement"]
    assert g.device(names["b"]) == "cpu:1"
    assert g.meta(names["d"])["placement"] == "colocated with input 'c'"
    assert g.meta(names["x"])["placement"] == "colocated with consumer 'a'"
    assert "@cpu:0  # colocated with input 'c'" in str(g)


def test_sources_follow_their_consumer_and_leftovers_take_the_default():
    net = nj.Net("src")
    c = net.Const(np.ones(3, np.float32), "k")
    with nj.device("cpu:1"):
        net.Neg(c, "n")
    net.Const(np.ones(2, np.float32), "alone")
    g = placed(net, ["n", "alone"], feeds={})
    names = by_name(g)
    assert g.device(names["k"]) == "cpu:1"
    assert g.device(names["alone"]) == "cpu:0" and g.meta(names["alone"])["placement"] == "default device cpu:0"


def test_unknown_device_is_an_error_naming_op_and_devices():
    # direct_session_test.cc InvalidDevice: a node on a device that does not exist
    with pytest.raises(InvalidArgumentError, match=r"Mul 'b' in net .* cpu:1, which does not exist.*cpu:0"):
        placed(ping_pong_net(), ["c"], devices=["cpu:0"])
    with session(ping_pong_net(), devices=1) as s, pytest.raises(InvalidArgumentError, match="does not exist"):
        s.run("c", {"x": np.ones((1, 3), np.float32)})


def test_soft_placement_falls_back_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="netjit.placement"):
        g = placed(ping_pong_net(), ["c"], devices=["cpu:0"], allow_soft_placement=True)
    b = by_name(g)["b"]
    assert g.device(b) == "cpu:0"
    assert g.meta(b)["placement"].startswith("soft placement (cpu:1 does not exist): colocated with input")
    assert "unknown device cpu:1" in caplog.text
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    with session(ping_pong_net(), devices=1, allow_soft_placement=True) as s:
        np.testing.assert_allclose(s.run("c", {"x": xv}), ping_pong_expected(xv), rtol=1e-6)


def test_variable_stays_pinned_across_extend_and_signatures():
    net = nj.Net("pinned")
    with nj.device("cpu:1"):
        v = net.Variable(np.zeros(2, np.float32), "v")
    s = session(net)
    s.run(v)
    more = nj.Net("more")
    more.AssignAdd([v, more.Const(np.ones(2, np.float32))], "v_inc")   # unplaced: follows the pin
    s.extend(more)
    np.testing.assert_array_equal(s.run("v_inc"), [1, 1])
    graph = s._cache.entries()[-1].graph
    inc = by_name(graph)["v_inc"]
    assert graph.device(inc) == "cpu:1" and graph.meta(inc)["placement"] == "pinned: variable 'v' lives on cpu:1"
    clash = nj.Net("clash")
    with nj.device("cpu:0"):
        clash.Assign([v, clash.Const(np.ones(2, np.float32))], "v_set")
    s.extend(clash)
    with pytest.raises(InvalidArgumentError, match="Stateful placement mismatch.*cpu:0.*cpu:1"):
        s.run("v_set")
    np.testing.assert_array_equal(s.run(v), [1, 1])     # the session is still usable


def test_cross_device_edges_become_send_recv_pairs_with_one_key():
    parts = partition(placed(ping_pong_net(), ["c"]))
    sends = {g.op(n).key: d for d, g in parts.graphs.items() for n in g.nx if isinstance(g.op(n), Send)}
    recvs = {g.op(n).key: d for d, g in parts.graphs.items() for n in g.nx if isinstance(g.op(n), Recv)}
    assert sends == {"cpu:0->cpu:1/a": "cpu:0", "cpu:1->cpu:0/b": "cpu:1"}
    assert recvs == {"cpu:0->cpu:1/a": "cpu:1", "cpu:1->cpu:0/b": "cpu:0"}
    for g in parts.graphs.values():
        g.verify()


def test_partition_graphs_run_on_the_reference_backend_through_a_rendezvous():
    """Send/Recv reference semantics: evaluating partitions in dependency order reproduces the graph."""
    g = placed(ping_pong_net(), ["c"])
    xv = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    rendezvous: dict = {}
    plan = split(partition(g))
    for seg in plan.segments:   # segments are in a topological order
        inputs = [xv if k[0] == "feed" else rendezvous[k] for k in seg.inputs]
        for keys, value in zip(seg.outputs, evaluate(seg.graph, inputs)):
            rendezvous.update((k, value) for k in keys)
    np.testing.assert_allclose(rendezvous[plan.fetches[0]], ping_pong_expected(xv), rtol=1e-6)
    send = Send("k")
    recv = Recv("k", F32)
    box: dict = {}
    send.reference_rendezvous(box, xv)
    np.testing.assert_array_equal(recv.reference_rendezvous(box)[0], xv)


def test_ping_pong_splits_cpu0_into_two_segments_and_runs():
    net = ping_pong_net()
    plan = split(partition(placed(net, ["c"])))
    assert [(s.device, s.level) for s in plan.segments] == [("cpu:0", 0), ("cpu:1", 1), ("cpu:0", 2)]
    assert plan.segments[2].after == (0, 1)
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    with session(net) as s:
        np.testing.assert_allclose(s.run("c", {"x": xv}), ping_pong_expected(xv), rtol=1e-6)


def test_constants_and_feeds_are_replicated_not_sent():
    net = nj.Net("shared")
    x = net.Placeholder("x", np.float32, (None, 3))
    w = net.Const(np.full((3, 3), 0.5, np.float32), "w")
    with nj.device("cpu:0"):
        a = net.MatMul([x, w], "a")
    with nj.device("cpu:1"):
        b = net.MatMul([x, w], "b")
    net.Add([a, b], "y")
    plan = split(partition(placed(net, ["y"])))
    level0 = [s for s in plan.segments if s.level == 0]
    assert sorted(s.device for s in level0) == ["cpu:0", "cpu:1"]      # both branches start at once
    assert all(s.after == () for s in level0)


# -- random graphs: every node lands in exactly one partition, segments form a DAG,
#    and the multi-device session computes what the unpartitioned reference does.
@st.composite
def random_nets(draw):
    n_ops = draw(st.integers(1, 9))
    net = nj.Net("rand")
    blobs = [net.Placeholder("x", np.float32, (None, 3)), net.Const(np.full(3, 0.5, np.float32), "k")]
    for i in range(n_ops):
        dev = draw(st.sampled_from([None, "cpu:0", "cpu:1", "cpu:2"]))
        kind = draw(st.sampled_from(["Tanh", "Neg", "Add", "Mul"]))
        ins = [draw(st.sampled_from(blobs)) for _ in range(1 if kind in ("Tanh", "Neg") else 2)]
        with nj.device(dev):
            blobs.append(getattr(net, kind)(ins, f"b{i}"))
    fetches = sorted(set(draw(st.lists(st.sampled_from(blobs[2:]), min_size=1, max_size=3))))
    return net, fetches


@given(random_nets())   # examples per the hypothesis profile (tests/conftest.py)
def test_random_graphs_partition_and_run_like_the_reference(case):
    net, fetches = case
    g = placed(net, fetches, devices=["cpu:0", "cpu:1", "cpu:2"])
    parts = partition(g)
    originals = [n for d, p in parts.graphs.items() for n in p.nx if n in g.nx]
    assert sorted(originals) == sorted(g.nx)                          # each node once
    plan = split(parts)
    deps = nx.DiGraph((a, i) for i, s in enumerate(plan.segments) for a in s.after)
    assert nx.is_directed_acyclic_graph(deps)
    assert all(a < i for i, s in enumerate(plan.segments) for a in s.after)
    assert all(not isinstance(seg.graph.op(n), (Send, Recv)) for seg in plan.segments for n in seg.graph.nx)
    assert all(isinstance(seg.graph.op(n), Placeholder) for seg in plan.segments for n in seg.graph.inputs)
    xv = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    single, _ = build_graph(net.ops, net.name, {"x": F32}, fetches)
    want = evaluate(single, [xv])
    with session(net, devices=3) as s:
        got = s.run(fetches, {"x": xv})
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)   # f32; numba's tanh is approximate
