"""The direct session, ported from TensorFlow's direct_session_test.cc and session_test.py.

Each test names the TensorFlow test it ports; expected values are TensorFlow's.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import netjit as nj
from netjit.errors import (CancelledError, DeadlineExceededError, FailedPreconditionError,
                           InvalidArgumentError, NotFoundError)
from netjit.runtime.stats import RunMetadata

from _session_helpers import (available_backends, blocking_op, ping_pong_expected,
                              ping_pong_net, session)

BACKENDS = available_backends()
ONES = np.ones((2, 1), np.float32)


def minus_ax() -> nj.Net:
    """direct_session_test.cc's graph: y = A @ x on cpu:1, y_neg = -y on cpu:0."""
    net = nj.Net("minus_ax")
    a = net.Const(np.array([[3, 2], [-1, 0]], np.float32), "A")
    x = net.Placeholder("x", np.float32, (2, 1))   # fed [[1], [1]] (a placeholder, so no pass folds y)
    with nj.device("cpu:1"):
        y = net.MatMul([a, x], "y")
    with nj.device("cpu:0"):
        net.Neg(y, "y_neg")
    return net


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_simple_network_fetch_and_target(backend):
    # direct_session_test.cc RunSimpleNetwork: fetch y, target y_neg -> one output [5, -1]
    with session(minus_ax(), backend=backend) as s:
        out = s.run(["y"], {"x": ONES}, targets=["y_neg"])
    assert len(out) == 1
    np.testing.assert_array_equal(out[0], [[5], [-1]])


def test_run_simple_network_with_opts_has_stats_per_device():
    # direct_session_test.cc RunSimpleNetworkWithOpts: dev_stats of 2 CPUs
    md = RunMetadata()
    with session(minus_ax()) as s:
        out = s.run("y_neg", {"x": ONES}, options=nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE), run_metadata=md)
    np.testing.assert_array_equal(out, [[-5], [1]])
    assert md.devices() == ["cpu:0", "cpu:1"]
    assert len(md.partition_graphs) == 2


def test_fetch_multiple_times():
    # direct_session_test.cc FetchMultipleTimes: {seven, seven} -> 7, 7
    net = nj.Net("seven")
    net.Const(np.array(7, np.int32), "seven")
    with nj.Session(net) as s:
        assert [int(v) for v in s.run(["seven", "seven"])] == [7, 7]


def test_multiple_feeds_of_any_blob_and_duplicate_feed():
    # direct_session_test.cc MultipleFeedTest: feeding constants' outputs; 11 and 22 come back
    net = nj.Net("feeds")
    first = net.Copy(net.Const(np.float32(1.0), "first_const"), "first_identity")
    second = net.Copy(net.Const(np.float32(2.0), "second_const"), "second_identity")
    with nj.Session(net) as s:
        assert [float(v) for v in s.run([first, second])] == [1.0, 2.0]
        out = s.run([first, second], {"first_const": np.float32(11), "second_const": np.float32(22)})
        assert [float(v) for v in out] == [11.0, 22.0]
        out = s.run([second, first], {"second_const": np.float32(22), "first_const": np.float32(11)})
        assert [float(v) for v in out] == [22.0, 11.0]
        with pytest.raises(InvalidArgumentError, match="fed more than once"):
            s.make_callable([first], ["first_const", "first_const"])


def test_keeps_state_across_runs_of_session():
    # direct_session_test.cc KeepsStateAcrossRunsOfSession: Assign 20s, later runs read 20s
    net = nj.Net("state")
    v = net.Variable(np.zeros(10, np.float32), "var")
    net.Assign([v, net.Const(np.full(10, 20.0, np.float32))], "init")
    with nj.Session(net) as s:
        s.run([], targets=["init"])
        np.testing.assert_array_equal(s.run(v), np.full(10, 20.0))
        np.testing.assert_array_equal(s.run(v), np.full(10, 20.0))


def test_extend_with_stateless_operations():
    # session_test.py testExtendWithStatelessOperations: [[4,4,4]] then [[24]]
    net = nj.Net("ext")
    a = net.Const(np.ones((1, 2), np.float32), "a")
    b = net.Const(np.full((2, 3), 2.0, np.float32), "b")
    c = net.MatMul([a, b], "c")
    with nj.Session(net) as s:
        np.testing.assert_array_equal(s.run(c), [[4, 4, 4]])
        more = nj.Net("ext2")
        d = more.Const(np.array([[1.0], [2.0], [3.0]], np.float32), "d")
        more.MatMul([c, d], "e")
        s.extend(more)
        np.testing.assert_array_equal(s.run("e"), [[24]])
        compiled = s.compile_count
        np.testing.assert_array_equal(s.run(c), [[4, 4, 4]])
        assert s.compile_count == compiled        # extend invalidated nothing it did not have to


def test_extend_with_stateful_operations():
    # session_test.py testExtendWithStatefulOperations: v [[4,4,4]], e [[6,6,6]], v unchanged, then [[6,6,6]]
    net = nj.Net("extstate")
    a = net.Const(np.ones((1, 2), np.float32), "a")
    v = net.Variable(np.full((1, 3), 4.0, np.float32), "v")
    with nj.Session(net) as s:
        np.testing.assert_array_equal(s.run(v), [[4, 4, 4]])
        more = nj.Net("extstate2")
        e = more.MatMul([a, more.Const(np.full((2, 3), 3.0, np.float32))], "e")
        more.Assign([v, e], "assign_e_to_v")
        s.extend(more)
        np.testing.assert_array_equal(s.run(e), [[6, 6, 6]])
        np.testing.assert_array_equal(s.run(v), [[4, 4, 4]])
        s.run([], targets=["assign_e_to_v"])
        np.testing.assert_array_equal(s.run(v), [[6, 6, 6]])


def test_extend_rejects_clashing_names():
    net = ping_pong_net()
    with session(net) as s:
        again = nj.Net("again")
        again.Const(np.ones(3, np.float32), "b")
        with pytest.raises(InvalidArgumentError, match=r"already has: \['b'\]"):
            s.extend(again)
        xv = np.ones((1, 3), np.float32)
        np.testing.assert_allclose(s.run("c", {"x": xv}), ping_pong_expected(xv), rtol=1e-6)


def test_run_close_and_closed_session_errors():
    # direct_session_test.cc TestDirectSessionRunClose: after Close every call fails; Close is idempotent
    net = nj.Net("close")
    net.Const(np.float32(3.0), "c")
    s = nj.Session(net)
    assert float(s.run("c")) == 3.0
    f = s.make_callable("c")
    s.close()
    s.close()
    for call in (lambda: s.run("c"), f, lambda: s.partial_run_setup(["c"]), lambda: s.extend(net),
                 lambda: s.reset(), s.list_devices):
        with pytest.raises(FailedPreconditionError, match="Attempted to use a closed Session."):
            call()


def test_reset_clears_variables_all_or_by_container():
    # direct_session_test.cc Reset / session_test.py: cleared variables are uninitialised
    net = nj.Net("reset")
    a = net.Variable(np.ones(2, np.float32), "a", container="c1")
    b = net.Variable(np.ones(2, np.float32), "b", container="c2")
    net.AssignAdd([a, net.Const(np.ones(2, np.float32))], "a_inc")
    net.Assign([b, net.Const(np.full(2, 5.0, np.float32))], "b_set")
    with nj.Session(net) as s:
        s.run(["a_inc", "b_set"])
        s.reset(["c1"])
        with pytest.raises(FailedPreconditionError, match="uninitialized value 'a'"):
            s.run(a)
        np.testing.assert_array_equal(s.run(b), [5, 5])
        s.reset()
        with pytest.raises(FailedPreconditionError, match="uninitialized"):
            s.run(b)


def test_reset_of_an_empty_list_clears_the_default_container_and_a_string_names_one():
    # DirectSession::Reset(containers): "an empty list clears the default container"
    net = nj.Net("reset_forms")
    a = net.Variable(np.ones(2, np.float32), "a")                  # default container ""
    b = net.Variable(np.ones(2, np.float32), "b", container="c1")
    with nj.Session(net) as s:
        s.run([a, b])
        s.reset([])
        with pytest.raises(FailedPreconditionError, match="uninitialized value 'a'"):
            s.run(a)
        np.testing.assert_array_equal(s.run(b), [1, 1])
        s.reset("c1")                                    # one name, not the containers 'c' and '1'
        with pytest.raises(FailedPreconditionError, match="uninitialized value 'b' in container 'c1'"):
            s.run(b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_assign_add_keeps_a_scalar_variable_an_array(backend):
    """On 0-d operands ``+`` gives a NumPy scalar; stored, it broke every compiled read."""
    net = nj.Net("scalar_var")
    v = net.Variable(np.float32(0), "v")
    net.AssignAdd([v, net.Const(np.float32(1))], "inc")
    net.Mul([v, net.Const(np.float32(2))], "twice")
    with session(net, backend=backend) as s:
        for k in range(1, 4):
            s.run("inc")
            out = s.run("v")
            assert isinstance(out, np.ndarray) and out.shape == () and float(out) == k
            assert float(s.run("twice")) == 2 * k


@pytest.mark.parametrize("backend", BACKENDS)
def test_changing_a_fetched_value_in_place_leaves_the_variable_alone(backend):
    """A variable's read, a view of it and an AssignAdd's output are the stored array
    itself; TensorFlow's fetches are copies, so writing into one must not reach it."""
    net = nj.Net("alias")
    v = net.Variable(np.zeros(4, np.float32), "v")
    net.Reshape(v, "v2d", shape=(2, 2))
    net.AssignAdd([v, net.Const(np.ones(4, np.float32))], "inc")
    with session(net, backend=backend) as s:
        call = s.make_callable("v")
        prog_v = nj.compile(net, "v2d", backend=backend)    # its own session: checks its path only
        for fetch in (lambda: s.run("v"), lambda: s.run("v2d"), lambda: s.run(["inc"])[0], call,
                      lambda: s.partial_run(s.partial_run_setup(["v"], []), ["v"])[0]):
            out = fetch()
            out += 100
            np.testing.assert_array_equal(s.run("v"), (out - 100).ravel())
        out = prog_v()
        out += 100
        np.testing.assert_array_equal(prog_v(), np.zeros((2, 2)))


def test_fetch_blob_returns_a_copy():
    ws = nj.Workspace()
    ws.feed_blob("x", np.ones(3, np.float32))
    ws.fetch_blob("x")[:] = 7
    np.testing.assert_array_equal(ws.fetch_blob("x"), [1, 1, 1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fed_intermediate_or_constant_blob_is_checked_against_its_static_type(backend):
    """TensorFlow checks every fed tensor against its static shape, not only placeholders."""
    net = nj.Net("feed_inner")
    x = net.Placeholder("x", np.float32, (None, 3))
    y = net.MatMul([x, net.Const(np.ones((3, 2), np.float32), "w")], "y")     # f32[?,2]
    net.Relu(y, "z")
    with session(net, backend=backend) as s:
        np.testing.assert_array_equal(s.run("z", {"y": -np.ones((4, 2), np.float32)}), np.zeros((4, 2)))
        np.testing.assert_array_equal(s.run("z", {"y": [[1, -2]]}), [[1, 0]])      # a list takes f32
        with pytest.raises(InvalidArgumentError, match=r"shape \(2, 3\) for blob 'y', which has shape f32\[\?,2\]"):
            s.run("z", {"y": np.ones((2, 3), np.float32)})          # same dtype and rank as the last call
        with pytest.raises(InvalidArgumentError, match="dtype int64 for blob 'y'"):
            s.run("z", {"y": np.ones((2, 2), np.int64)})
        with pytest.raises(InvalidArgumentError, match=r"shape \(3, 5\) for blob 'w'"):
            s.run("z", {"x": np.ones((1, 3), np.float32), "w": np.ones((3, 5), np.float32)})
        call = s.make_callable("z", ["y"])
        np.testing.assert_array_equal(call(np.ones((1, 2), np.float32)), np.ones((1, 2)))
        with pytest.raises(InvalidArgumentError, match="for blob 'y'"):
            call(np.ones((1, 3), np.float32))


def assign_net(container: str = "") -> nj.Net:
    """b = Variable([1, 1]); b_set = Assign(b, [5, 5]): the read is only the Assign's handle."""
    net = nj.Net("assign")
    b = net.Variable(np.ones(2, np.float32), "b", container=container)
    net.Assign([b, net.Const(np.full(2, 5.0, np.float32))], "b_set")
    return net


@pytest.mark.parametrize("backend", BACKENDS)
def test_assign_after_reset_reinitialises_the_variable(backend):
    # TensorFlow: after Session.reset() running the initialiser (an Assign) makes the variable usable again
    with session(assign_net(), backend=backend) as s:
        np.testing.assert_array_equal(s.run("b_set"), [5, 5])
        s.reset()
        np.testing.assert_array_equal(s.run("b_set"), [5, 5])   # does not read the cleared b
        np.testing.assert_array_equal(s.run("b"), [5, 5])


@pytest.mark.parametrize("backend", BACKENDS)
def test_assign_after_reset_of_its_container(backend):
    with session(assign_net("c1"), backend=backend) as s:
        np.testing.assert_array_equal(s.run("b"), [1, 1])
        s.reset(["c2"])                                          # another container: b keeps its value
        np.testing.assert_array_equal(s.run("b"), [1, 1])
        s.reset(["c1"])
        with pytest.raises(FailedPreconditionError, match="uninitialized value 'b' in container 'c1'"):
            s.run("b")
        np.testing.assert_array_equal(s.run("b_set"), [5, 5])
        np.testing.assert_array_equal(s.run("b"), [5, 5])


@pytest.mark.parametrize("backend", BACKENDS)
def test_fetching_a_read_and_a_later_assign_keeps_program_order(backend):
    # the read comes first when both run: it sees the old value, the Assign returns the new one
    with session(assign_net(), backend=backend) as s:
        old, new = s.run(["b", "b_set"])
        np.testing.assert_array_equal(old, [1, 1])
        np.testing.assert_array_equal(new, [5, 5])
        np.testing.assert_array_equal(s.run(["b_set", "b"])[1], [5, 5])   # now b holds 5
        s.reset()
        with pytest.raises(FailedPreconditionError, match="uninitialized value 'b'"):
            s.run(["b", "b_set"])    # the read runs first, on a cleared variable


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_read_sent_to_another_device_stays_ordered_before_the_assign(backend):
    net = nj.Net("assign2")
    with nj.device("cpu:0"):
        b = net.Variable(np.ones(2, np.float32), "b")
    with nj.device("cpu:1"):
        net.Mul([b, b], "sq")
    with nj.device("cpu:0"):
        net.Assign([b, net.Const(np.full(2, 3.0, np.float32))], "b_set")
    with session(net, backend=backend) as s:
        sq, new = s.run(["sq", "b_set"])
        np.testing.assert_array_equal(sq, [1, 1])
        np.testing.assert_array_equal(new, [3, 3])
        s.reset()
        np.testing.assert_array_equal(s.run("b_set"), [3, 3])
        np.testing.assert_array_equal(s.run("sq"), [9, 9])


def test_run_without_graph_and_lookup_errors():
    with nj.Session() as s, pytest.raises(InvalidArgumentError, match="not created with a graph"):
        s.run("x")
    with session(ping_pong_net()) as s:
        with pytest.raises(NotFoundError, match="'nope'"):
            s.run("nope", {"x": np.ones((1, 3), np.float32)})
        with pytest.raises(InvalidArgumentError, match="You must feed a value for placeholder 'x'"):
            s.run("c")
        with pytest.raises(InvalidArgumentError, match=r"Cannot feed value of shape \(2, 4\) for blob 'x'"):
            s.run("c", {"x": np.ones((2, 4), np.float32)})
        with pytest.raises(InvalidArgumentError, match="Must specify at least one target"):
            s.run([])


def test_executor_cache_keys_on_sorted_signature_and_rank():
    net = nj.Net("keys")
    x = net.Placeholder("x", np.float32, (None,))
    h = net.Python(lambda inputs, outputs: outputs.__setitem__(0, np.tanh(inputs[0])))([x], "h")
    net.Mul([h, h], "y")          # h is f32 of unknown rank (a Python op's output): any rank feeds it
    net.Neg(x, "nx")
    with nj.Session(net) as s:
        s.run(["y", "nx"], {x: np.ones(2, np.float32)})
        s.run(["nx", "y"], {x: np.ones(2, np.float32)})       # permutation: slow-path hit
        assert s.executor_cache_size() == 1
        for value in (np.float32(2.0), np.array([2.0], np.float32), np.array([[2.0]], np.float32)):
            np.testing.assert_allclose(s.run("y", {h: value}), value * value)
            assert s.run("y", {h: value}).dtype == value.dtype
        assert s.executor_cache_size() == 4
        f1, f2 = s.make_callable("y", [x]), s.make_callable("y", [x])
        np.testing.assert_allclose(f1(np.ones(3, np.float32)), np.tanh(1.0) ** 2, rtol=1e-6)
        f2(np.ones(3, np.float32))
        assert f1.signature.step.entry is f2.signature.step.entry
        assert s.executor_cache_size() == 5


def test_session_accepts_an_ir_graph():
    from netjit.compiler.pipeline import build_graph
    from netjit.compiler.ops import TensorType
    graph, _ = build_graph(ping_pong_net().ops, "g", {"x": TensorType(np.float32, (None, 3))}, ["c"])
    xv = np.ones((2, 3), np.float32)
    with session(graph) as s:
        np.testing.assert_allclose(s.run("c", {"x": xv}), ping_pong_expected(xv), rtol=1e-6)


# -- failures, deadlines, cancellation ------------------------------------------------
def test_timeout_session_operation_timeout():
    # direct_session_test.cc TimeoutSession: a blocked op + operation timeout -> DEADLINE_EXCEEDED
    release = threading.Event()
    net = nj.Net("timeout")
    x = net.Placeholder("x", np.float32, (None,))
    blocking_op(net, x, "slow", release)
    net.Neg(x, "fast")
    s = nj.Session(net, nj.SessionConfig(operation_timeout_s=0.2))
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="Timed out"):
        s.run("slow", {x: np.ones(2, np.float32)})
    assert time.monotonic() - t0 < 5
    np.testing.assert_array_equal(s.run("fast", {x: np.ones(2, np.float32)}), [-1, -1])
    with pytest.raises(DeadlineExceededError):
        s.run("slow", {x: np.ones(2, np.float32)}, options=nj.RunOptions(timeout_s=0.05))
    release.set()
    np.testing.assert_array_equal(s.run("slow", {x: np.ones(2, np.float32)},
                                        options=nj.RunOptions(timeout_s=5)), [1, 1])
    s.close()


def test_failing_segment_while_other_device_is_mid_run():
    release = threading.Event()
    net = nj.Net("fail")
    x = net.Placeholder("x", np.float32, (None,))
    with nj.device("cpu:0"):
        blocking_op(net, x, "slow", release)
    with nj.device("cpu:1"):     # fails at run time: 2 values do not reshape to 3
        bad = net.Reshape(net.Neg(x), "bad", shape=(3,))
    with nj.device("cpu:0"):
        net.Add([bad, net.Const(np.ones(3, np.float32))], "y")
        net.Neg(x, "ok")
    with session(net) as s:
        t0 = time.monotonic()
        # the error names the op (reference backend) or at least its segment (numba)
        with pytest.raises(InvalidArgumentError, match=r"Reshape 'bad'|segment '[^']*/cpu:1/s1'"):
            s.run("y", {x: np.ones(2, np.float32)}, targets=["slow"])
        assert time.monotonic() - t0 < 5           # did not wait for the blocked cpu:0 segment
        plan = s._cache.entries()[0].schedule
        assert [seg.device for seg in plan.segments if seg.blocking] == ["cpu:0"]
        release.set()
        np.testing.assert_array_equal(s.run("ok", {x: np.ones(2, np.float32)}), [-1, -1])
        np.testing.assert_array_equal(s.run("slow", {x: np.ones(2, np.float32)}), [1, 1])


def test_close_cancels_in_flight_runs():
    # direct_session_test.cc TestDirectSessionRunClose: an in-flight run returns CANCELLED
    release = threading.Event()
    net = nj.Net("inflight")
    x = net.Placeholder("x", np.float32, (None,))
    blocking_op(net, x, "slow", release)
    s = nj.Session(net)
    errors = []

    def run():
        try:
            s.run("slow", {x: np.ones(2, np.float32)})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.1)
    s.close()
    t.join(5)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], CancelledError)
    assert "Run call was cancelled" in str(errors[0])
    release.set()


def test_many_threads_mixed_signatures_on_one_session():
    # direct_session_test.cc TestConcurrency / session_test.py testParallelRun, 8 threads x 200 runs
    net = ping_pong_net()
    net.Relu("x", "r")
    v = net.Variable(np.zeros(1, np.int64), "count")
    net.AssignAdd([v, net.Const(np.ones(1, np.int64))], "tick")
    s = session(net)
    call = s.make_callable(["c", "r"], ["x"])
    failures = []

    def worker(k):
        rng = np.random.default_rng(k)
        for i in range(200):
            xv = rng.standard_normal((2, 3)).astype(np.float32)
            choice = (i + k) % 4
            if choice == 0:
                got, want = s.run("c", {"x": xv}), ping_pong_expected(xv)
            elif choice == 1:
                got, want = s.run({"r": "r"}, {"x": xv})["r"], np.maximum(xv, 0)
            elif choice == 2:
                got, want = call(xv)[0], ping_pong_expected(xv)
            else:
                s.run([], targets=["tick"])
                continue
            if not np.allclose(got, want, rtol=1e-5, atol=1e-5):   # numba's tanh is approximate
                failures.append((k, i))
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures
    assert int(s.run(v)[0]) == 8 * 50
    s.close()


def test_host_ops_on_two_devices_keep_program_order():
    """Host ops are ordered by control edges; across devices these become control Send/Recv pairs."""
    seen = []
    net = nj.Net("order")
    x = net.Placeholder("x", np.float32, (None,))
    for i, dev in enumerate(["cpu:1", "cpu:0", "cpu:1", "cpu:0"]):
        with nj.device(dev):
            net.Python(lambda ins, outs, i=i: (seen.append(i), outs.__setitem__(0, ins[0] + i)))([x], f"h{i}")
    with session(net) as s:
        out = s.run([f"h{i}" for i in range(4)], {x: np.zeros(1, np.float32)})
        plan = s._cache.entries()[0].schedule
    assert seen == [0, 1, 2, 3]
    assert [float(o[0]) for o in out] == [0, 1, 2, 3]
    assert [seg.device for seg in plan.segments] == ["cpu:1", "cpu:0", "cpu:1", "cpu:0"]


def test_variable_updated_on_one_device_read_on_another():
    net = nj.Net("vars2")
    with nj.device("cpu:1"):
        v = net.Variable(np.zeros(2, np.float32), "v")
        inc = net.AssignAdd([v, net.Const(np.ones(2, np.float32))], "inc")
    with nj.device("cpu:0"):
        net.Mul([inc, net.Const(np.full(2, 10.0, np.float32))], "scaled")
    with session(net) as s:
        np.testing.assert_array_equal(s.run("scaled"), [10, 10])
        np.testing.assert_array_equal(s.run("scaled"), [20, 20])
        np.testing.assert_array_equal(s.run(v), [2, 2])


def test_effect_only_segment_runs_before_the_device_waiting_on_it():
    """A host op nothing reads still runs, before the later host op on another device."""
    seen = []
    net = nj.Net("effects")
    x = net.Placeholder("x", np.float32, (None,))
    with nj.device("cpu:1"):
        net.Python(lambda ins, outs: (seen.append("first"), outs.__setitem__(0, ins[0])))([x], "unread")
    with nj.device("cpu:0"):
        net.Python(lambda ins, outs: (seen.append("second"), outs.__setitem__(0, ins[0])))([x], "read")
    with session(net) as s:
        s.run("read", {x: np.zeros(1, np.float32)})
    assert seen == ["first", "second"]


def test_bad_arguments_get_netjit_errors_and_leave_the_session_usable():
    net = nj.Net("bad_args")
    x = net.Placeholder("x", np.float32, (None,))
    i = net.Placeholder("i", np.int32, (None,))
    net.Neg(x, "y")
    net.Neg(i, "j")
    with nj.Session(net) as s:
        ones = np.ones(2, np.float32)
        cases = [
            (lambda: s.run("y", [("x", ones)]), "feed_dict must be a dict"),
            (lambda: s.run("y", {"x": ones}, options={"timeout_s": 1}), "options must be an nj.RunOptions"),
            (lambda: s.run("y", {"x": ones}, run_metadata=object()), "run_metadata must be an nj.RunMetadata"),
            (lambda: s.run("j", {"i": [2 ** 40]}), "cannot feed 'i'.*out of bounds for int32"),
            (lambda: nj.RunOptions(timeout_s="1"), "timeout_s must be None or a number"),
            (lambda: nj.RunOptions(trace_level=1.5), "trace_level must be an int"),
            (lambda: nj.compile(net, "y", feeds=["x"], bogus=1), r"unknown options \['bogus'\]"),
        ]
        for call, message in cases:
            with pytest.raises(InvalidArgumentError, match=message):
                call()
        np.testing.assert_array_equal(s.run("y", {"x": ones}), -ones)


@pytest.mark.parametrize("backend", BACKENDS)
def test_assign_add_from_many_threads_loses_no_increment(backend):
    import sys
    import threading
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)      # threads switch between an update's read and its write
    try:
        net = nj.Net("counter")
        v = net.Variable(np.zeros(2, np.int64), "v")
        net.AssignAdd([v, net.Const(np.ones(2, np.int64))], "inc")
        with session(net, backend=backend) as s:
            s.run("inc")
            threads = [threading.Thread(target=lambda: [s.run("inc") for _ in range(300)]) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            np.testing.assert_array_equal(s.run("v"), [2401, 2401])
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_timed_out_run_applies_no_variable_update_afterwards(backend):
    """TensorFlow cancels a step at its deadline; the segment still running here went on
    and applied its AssignAdd after the caller had seen DeadlineExceededError."""
    import threading
    import time
    release = threading.Event()
    net = nj.Net("late_update")
    x = net.Placeholder("x", np.float32, (2,))
    slow = net.Python(lambda inputs, outputs: (release.wait(5), outputs.__setitem__(0, inputs[0])))([x], "slow")
    net.AssignAdd([net.Variable(np.zeros(2, np.float32), "v"), slow], "inc")
    with session(net, backend=backend) as s:
        with pytest.raises(DeadlineExceededError):
            s.run("inc", {"x": np.ones(2, np.float32)}, options=nj.RunOptions(timeout_s=0.2))
        release.set()
        time.sleep(0.5)                                  # the abandoned segment has finished by now
        np.testing.assert_array_equal(s.run("v"), [0, 0])
        np.testing.assert_array_equal(s.run("inc", {"x": np.ones(2, np.float32)}), [1, 1])


def test_make_callable_and_compile_refuse_unknown_names_when_made():
    net = nj.Net("names")
    x = net.Placeholder("x", np.float32, (None,))
    net.Neg(x, "y")
    with nj.Session(net) as s:
        with pytest.raises(NotFoundError, match="cannot feed 'q'"):
            s.make_callable("y", ["q"])
        with pytest.raises(NotFoundError, match="cannot fetch 'nope'"):
            s.make_callable("nope", ["x"])
    with pytest.raises(NotFoundError, match="cannot feed 'q'"):
        nj.compile(net, "y", feeds=["q"])
    prog = nj.compile(net, "y", feeds=["x"])
    with pytest.raises(InvalidArgumentError, match=r"feeds \['x'\] given both by position and by name"):
        prog(np.ones(2, np.float32), x=np.ones(2, np.float32))


def test_extend_with_the_sessions_own_net_grown_adds_its_new_ops():
    net = nj.Net("grow")
    x = net.Placeholder("x", np.float32, (None,))
    net.Neg(x, "y")
    with nj.Session(net) as s:
        np.testing.assert_array_equal(s.run("y", {"x": np.ones(2, np.float32)}), [-1, -1])
        net.Exp(net.Neg(x), "z")                      # the same net object, grown
        s.extend(net)
        np.testing.assert_allclose(s.run("z", {"x": np.zeros(2, np.float32)}), [1, 1])
        with pytest.raises(InvalidArgumentError, match="already has"):
            s.extend(net.Clone())                      # another net writing the same blobs


def test_feeding_none_to_a_workspace_is_an_error_naming_the_blob():
    ws = nj.Workspace()
    with pytest.raises(InvalidArgumentError, match="cannot feed blob 'x': None is not a value"):
        ws.feed_blob("x", None)
