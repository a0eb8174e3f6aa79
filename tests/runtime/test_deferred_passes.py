"""Deferred passes: a tiered session on one device answers its first run before the passes run.

The first run's reference tier runs the pruned, unoptimised graph; the pass
phases run on the compile thread just before numba generates code. Tests
verify passes by default, which turns deferral off, so these tests say
``verify_passes=False`` where they want it.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import threading

import numpy as np
import pytest

import netjit as nj
from netjit.backends.numba import NumbaBackend
from netjit.backends.common.tiered import compile_pool
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Placeholder, Tanh
from netjit.passes import REGISTRY, Phase, register_pass
from netjit.runtime.stats import RunMetadata

FULL = nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE)
DEFER = dict(tiered=True, verify_passes=False)


@contextlib.contextmanager
def compile_thread_blocked():
    """Hold the compile thread, so what a first run left for it has not started yet."""
    release, started = threading.Event(), threading.Event()
    compile_pool().submit(lambda: (started.set(), release.wait(60)))
    started.wait(60)
    try:
        yield
    finally:
        release.set()


def _chain_net():
    net = nj.Net("chain")
    x = net.Placeholder("x", np.float32, (None,))
    h = x
    for _ in range(4):
        h = net.Tanh(net.Mul([h, net.Const(np.float32(1.5))]))
    net.Exp([x], "unused")          # nothing fetches it: pruned before the first run
    return net, str(h)


def _expected(xv):
    h = xv
    for _ in range(4):
        h = np.tanh(h * np.float32(1.5))
    return h


def _stage_names(events):
    return [e.name for e in events]


def test_first_run_answers_before_the_passes_then_the_compiled_tier_is_optimised():
    net, y = _chain_net()
    xv = np.linspace(-2, 2, 11).astype(np.float32)
    with nj.Session(net, nj.SessionConfig(**DEFER)) as s:
        md = RunMetadata()
        with compile_thread_blocked():
            got = s.run(y, {"x": xv}, options=FULL, run_metadata=md)
            (entry,) = s._cache.entries()
            ops_before = sorted(entry.compiled.graph.op(n).name for n in entry.compiled.graph.nx)
        np.testing.assert_allclose(got, _expected(xv), rtol=1e-6)
        first = _stage_names(md.compile_events)
        assert first[:2] == ["lower", "prune"] and "placement" in first and "segments" in first
        assert not any(n.startswith(("PRE_PLACEMENT", "pass ")) for n in first)
        assert [st.tier for st in md.step_stats] == ["reference"]
        assert "Exp" not in ops_before and ops_before.count("Tanh") == 4    # pruned, not fused
        assert s.wait_compiled(timeout_s=300) == 1
        later = _stage_names(entry.compiled.trace.events)
        assert "PRE_PLACEMENT" in later and "pass fuse_elementwise" in later
        threads = {e.thread for e in entry.compiled.trace.events if e.name == "PRE_PLACEMENT"}
        assert threads == {"netjit-compile"}
        ops_after = [entry.compiled.graph.op(n).name for n in entry.compiled.graph.nx]
        assert "FusedElementwise" in ops_after and "Tanh" not in ops_after
        assert entry.compiled.partitions["cpu:0"].name == f"{net.name}@cpu:0"
        md2 = RunMetadata()
        np.testing.assert_allclose(s.run(y, {"x": xv}, options=FULL, run_metadata=md2), _expected(xv), rtol=1e-5)
        # an elementwise chain: the native code generator compiles it
        assert [st.tier for st in md2.step_stats] == ["native"] and md2.compile_events == []
        assert md2.partition_graphs[0] is entry.compiled.partitions["cpu:0"]


def test_a_stateful_op_nobody_fetches_does_not_run_in_the_first_tier():
    net = nj.Net("state")
    v = net.Variable(np.zeros(3, np.float32), "v")
    one = net.Const(np.ones(3, np.float32), "one")
    total = net.Add([one, one], "total")
    net.AssignAdd([v, total], "bump")
    with nj.Session(net, nj.SessionConfig(**DEFER)) as s:
        np.testing.assert_array_equal(s.run(total), [2, 2, 2])
        np.testing.assert_array_equal(s.run(v), [0, 0, 0])
        s.run([], targets=["bump"])
        np.testing.assert_array_equal(s.run(v), [2, 2, 2])
        s.wait_compiled(timeout_s=300)
        s.run([], targets=["bump"])
        np.testing.assert_array_equal(s.run(v), [4, 4, 4])


@pytest.mark.parametrize("config", [
    dict(tiered=False, verify_passes=False),
    dict(DEFER, device_count={"cpu": 2}),
    dict(DEFER, backend="reference"),
    dict(tiered=True),                  # verified (as under pytest by default): a pass error fails this call
])
def test_passes_run_before_the_first_result_when_nothing_is_deferred(config):
    net, y = _chain_net()
    xv = np.linspace(-1, 1, 5).astype(np.float32)
    with nj.Session(net, nj.SessionConfig(**config)) as s:
        md = RunMetadata()
        np.testing.assert_allclose(s.run(y, {"x": xv}, options=FULL, run_metadata=md), _expected(xv), rtol=1e-5)
        names = _stage_names(md.compile_events)
        assert "PRE_PLACEMENT" in names and "pass fuse_elementwise" in names and "prune" not in names


def test_a_dump_directory_gets_the_optimised_graphs_before_the_run_returns(tmp_path):
    net, y = _chain_net()
    with nj.Session(net, nj.SessionConfig(**DEFER, dump_dir=str(tmp_path))) as s:
        s.run(y, {"x": np.ones(3, np.float32)})
        (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
        assert "FusedElementwise" in (folder / "partitions.txt").read_text()


def test_a_partial_run_is_not_deferred():
    net, y = _chain_net()
    xv = np.ones(4, np.float32)
    with nj.Session(net, nj.SessionConfig(**DEFER)) as s:
        h = s.partial_run_setup([y], ["x"])
        np.testing.assert_allclose(s.partial_run(h, [y], {"x": xv})[0], _expected(xv), rtol=1e-5)


def test_program_wait_compiled_switches_to_numba():
    net, y = _chain_net()
    prog = nj.compile(net, y, feeds=["x"], **DEFER)
    xv = np.linspace(-3, 3, 7).astype(np.float32)
    first = prog(xv)
    assert prog.wait_compiled(timeout_s=300) == 1
    np.testing.assert_allclose(prog(xv), first, rtol=1e-5, atol=1e-6)
    untiered = nj.compile(net, y, feeds=["x"], tiered=False)
    assert untiered.wait_compiled() == 0


def test_wait_compiled_on_a_closed_session_raises():
    net, y = _chain_net()
    s = nj.Session(net)
    s.close()
    with pytest.raises(nj.errors.FailedPreconditionError):
        s.wait_compiled()


def test_a_deferred_pass_that_fails_fails_the_calls_after_the_first():
    net, y = _chain_net()
    xv = np.ones(3, np.float32)
    with REGISTRY.scratch():
        @register_pass("explode_later", phase=Phase.PRE_PLACEMENT, opt_level=1)
        def explode_later(graph, ctx):
            raise KeyError("boom")

        with nj.Session(net, nj.SessionConfig(**DEFER)) as s:
            np.testing.assert_allclose(s.run(y, {"x": xv}), _expected(xv), rtol=1e-6)   # reference tier
            with pytest.raises(nj.errors.PassError, match="explode_later.*KeyError"):
                s.wait_compiled(timeout_s=300)
            with pytest.raises(nj.errors.PassError, match="explode_later"):
                s.run(y, {"x": xv})
            np.testing.assert_array_equal(s.run("x", {"x": xv}), xv)     # other signatures still run


def test_wait_compiled_times_out_as_a_whole():
    net, y = _chain_net()
    with nj.Session(net, nj.SessionConfig(**DEFER)) as s:
        with compile_thread_blocked():
            s.run(y, {"x": np.ones(2, np.float32)})
            with pytest.raises(concurrent.futures.TimeoutError):
                s.wait_compiled(timeout_s=0.05)
        assert s.wait_compiled(timeout_s=300) == 1


def test_numba_compiles_the_graph_as_it_was_handed_over():
    g = Graph("handed")
    x = g.add(Placeholder(np.float32, (None,)), names=["x"])
    g.inputs.append(x)
    t = g.add(Tanh(), [(x, 0)])
    g.outputs = [(t, 0)]
    with compile_thread_blocked():
        exe = NumbaBackend(tiered=True).compile(g)
        xv = np.linspace(-1, 1, 5).astype(np.float32)
        np.testing.assert_allclose(exe([xv])[0], np.tanh(xv), rtol=1e-6)
        g.outputs = [(g.add(Tanh(), [(t, 0)]), 0)]          # the caller reuses its graph
    exe.wait(timeout=300)
    np.testing.assert_allclose(exe([xv])[0], np.tanh(xv), rtol=1e-6)
