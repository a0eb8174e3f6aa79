"""Execution steps and plans, as Caffe2's plan_executor runs them."""
import threading
import time

import numpy as np
import pytest
from hypothesis import given, strategies as st

import netjit as nj
from caffe2_backends import BACKENDS
from netjit.backends.reference import OpFailure
from netjit.errors import (FailedPreconditionError, InvalidArgumentError, NotFoundError,
                           UnimplementedError)


def _iter_net(name="net"):
    net = nj.Net(name)
    net.Add(["iter", net.Const(np.int64(1))], "iter")   # Caffe2's Iter: iter += 1
    return net


def _criteria_net():
    net = nj.Net("criteria")
    net.GE(["iter", "num_iters"], ["stop"])
    net.AddExternalOutput("stop")
    return net


# The property tests' nets are built once: every example then reuses the compiled code
# (a fresh net has a fresh name, and the compiled code is keyed by the net).
ITER_NET, CRITERIA_NET = _iter_net("iter_net"), _criteria_net()


@pytest.mark.parametrize("backend", BACKENDS)
@given(initial_iters=st.integers(0, 100), max_iters=st.integers(0, 100))
def test_iter_count_with_execution_step(backend, initial_iters, max_iters):
    # Caffe2: hypothesis_test.TestOperators.test_iter_count_with_execution_step
    net = ITER_NET
    step = nj.ExecutionStep("step", [net])
    step.SetIter(max_iters)
    plan = nj.Plan("plan")
    plan.AddStep(step)
    ws = nj.Workspace(config=nj.SessionConfig(backend=backend))
    ws.feed_blob("iter", np.asarray([initial_iters]).astype(np.int64))
    ws.run(plan)
    assert ws.fetch_blob("iter").tolist() == [initial_iters + max_iters]


@pytest.mark.parametrize("backend", BACKENDS)
@given(initial_iters=st.integers(0, 100), max_iters=st.integers(0, 20), num_nets=st.integers(0, 5))
def test_atomic_iter_with_concurrent_steps(backend, initial_iters, max_iters, num_nets):
    # Caffe2: hypothesis_test.TestOperators.test_atomic_iter_with_concurrent_steps
    # (AtomicIter under a mutex becomes CountUp on one shared, atomic counter)
    init_net = nj.Net("init_net")
    init_net.CreateCounter([], ["iter"], init_count=initial_iters)
    concurrent_steps = nj.ExecutionStep("concurrent_steps", num_iter=max_iters)
    for i in range(num_nets):
        net = nj.Net(f"net_{i}")
        net.CountUp("iter")
        concurrent_steps.AddSubstep(nj.ExecutionStep("step", [net]))
    concurrent_steps.SetConcurrentSubsteps(True)
    plan = nj.Plan("plan")
    plan.AddStep(nj.ExecutionStep("init", [init_net]))
    plan.AddStep(concurrent_steps)
    ws = nj.Workspace(config=nj.SessionConfig(backend=backend))
    ws.run(plan)
    assert ws.fetch_blob("iter").item().count == initial_iters + num_nets * max_iters


@pytest.mark.parametrize("backend", BACKENDS)
@given(initial_iters=st.integers(0, 100), num_iters=st.integers(0, 100))
def test_should_stop_as_criteria_net_execution_step(backend, initial_iters, num_iters):
    # Caffe2: hypothesis_test.TestOperators.test_should_stop_as_criteria_net_execution_step
    net, criteria_net = ITER_NET, CRITERIA_NET
    ws = nj.Workspace(config=nj.SessionConfig(backend=backend))
    ws.feed_blob("iter", np.asarray([initial_iters]).astype(np.int64))
    ws.feed_blob("num_iters", np.asarray([num_iters]).astype(np.int64))
    plan = nj.Plan("plan")
    plan.AddStep(nj.execution_step("step", [criteria_net, net], should_stop_blob=nj.BlobReference("stop")))
    ws.run(plan)
    iters = ws.fetch_blob("iter")
    assert iters.dtype == np.int64
    assert iters[0] == max(initial_iters, num_iters)


def _disabled_nets(i, disabled):
    should_stop, output = f"should_stop_{i}", f"output_{i}"
    init = nj.Net(f"init_{i}")                       # init content and stop signal
    init.Const(np.zeros(1, np.float32), output)
    init.Cast([output], [should_stop], dtype=np.bool_)
    criterion = nj.Net(f"criterion_{i}")             # decide if disabled or not
    tmp = criterion.Const(np.full(1, 1.0 if disabled else 0.0, np.float32))
    criterion.Cast([tmp], [should_stop], dtype=np.bool_)
    net = nj.Net(f"net_{i}")                         # the body turns a 0 blob to 1
    net.Const(np.ones(1, np.float32), output)
    ender = nj.Net(f"ender_{i}")                     # always end the loop
    tmp = ender.Const(np.ones(1, np.float32))
    ender.Cast([tmp], [should_stop], dtype=np.bool_)
    return [init, criterion, net, ender]


def test_disabled_execution_step(config):
    # Caffe2: hypothesis_test.TestOperators.test_disabled_execution_step
    nets = [_disabled_nets(1, False), _disabled_nets(2, True), _disabled_nets(3, False)]
    steps = [nj.execution_step("step_1", nets[0], should_stop_blob=nj.BlobReference("should_stop_1")),
             nj.execution_step("step_2", nets[1], should_stop_blob=nj.BlobReference("should_stop_2")),
             nj.execution_step("step_3", nets[2])]
    plan = nj.Plan("plan")
    plan.AddStep(nj.execution_step("all_steps", steps, num_iter=3))
    ws = nj.Workspace(config=config)
    ws.run(plan)
    assert [ws.blobs[f"output_{i + 1}"][0] for i in range(3)] == [1.0, 0.0, 1.0]


def test_stop_blob_checked_after_every_net_and_substep():
    ws = nj.Workspace()
    ws.feed_blob("n", np.int64(0))
    count = nj.Net("count")
    count.Add(["n", count.Const(np.int64(1))], "n")
    check = nj.Net("check")
    check.GE(["n", check.Const(np.int64(3))], "stop")
    after = nj.Net("after")                          # never runs in the iteration that stops
    after.Add(["n", after.Const(np.int64(100))], "m")
    ws.run(nj.execution_step("loop", [count, check, after], should_stop_blob="stop"))
    assert ws.fetch_blob("n") == 3 and ws.fetch_blob("m") == 102
    ws.feed_blob("n", np.int64(0))                   # the stop blob is not reset: rewrite it
    ws.feed_blob("stop", False)
    outer = nj.execution_step("outer", [nj.execution_step("c", count), nj.execution_step("k", check),
                                        nj.execution_step("a", after)], should_stop_blob="stop")
    ws.run(outer)
    assert ws.fetch_blob("n") == 3 and ws.fetch_blob("m") == 102


def test_only_once_and_zero_iterations():
    ws = nj.Workspace()
    ws.feed_blob("iter", np.int64(0))
    ws.feed_blob("never", False)
    ws.run(nj.execution_step("once", _iter_net(), should_stop_blob="never", only_once=True))
    assert ws.fetch_blob("iter") == 1
    ws.run(nj.execution_step("zero", _iter_net(), num_iter=0))
    assert ws.fetch_blob("iter") == 1


def test_nested_steps_run_in_order():
    log = []
    ws = nj.Workspace()

    def make(tag):
        net = nj.Net(tag)
        net.Python(lambda i, o: log.append(tag))([], [])
        return net
    inner = nj.execution_step("inner", [make("a"), make("b")], num_iter=2)
    step = nj.execution_step("outer", [make("first"), inner, make("last")], num_iter=2)
    ws.run(step)
    assert log == ["first", "a", "b", "a", "b", "last"] * 2


def test_step_errors():
    net = _iter_net()
    with pytest.raises(InvalidArgumentError, match="Cannot set both should_stop_blob and num_iter"):
        nj.execution_step("s", net, num_iter=2, should_stop_blob="stop")
    step = nj.execution_step("s", net)
    with pytest.raises(InvalidArgumentError, match="Cannot have both network and substeps"):
        step.AddSubstep(nj.execution_step("t", _iter_net()))
    with pytest.raises(InvalidArgumentError, match="expects a BlobReference"):
        step.SetShouldStopBlob(3)
    nj.Plan("p").AddStep(step)
    with pytest.raises(FailedPreconditionError, match="already been added"):
        step.SetIter(3)
    ws = nj.Workspace()
    ws.feed_blob("iter", np.int64(0))
    bad = nj.ExecutionStep("bad", [net])
    bad.SetOnlyOnce(True)
    with pytest.raises(UnimplementedError, match="not supported"):
        ws.run(bad)
    with pytest.raises(NotFoundError, match="should_stop_blob 'ghost' does not exist"):
        ws.run(nj.execution_step("ghost", net, should_stop_blob="ghost"))
    ws.feed_blob("flag", np.array([1, 2]))
    with pytest.raises(InvalidArgumentError, match="expects a scalar boolean"):
        ws.run(nj.execution_step("int_stop", net, should_stop_blob="flag"))


def test_empty_steps_are_dropped_and_mixed_lists_run_in_order():
    net = _iter_net()
    step = nj.execution_step("mixed", [net, nj.execution_step("empty", []), nj.execution_step("s", net)])
    assert len(step.substeps) == 2                   # the empty substep was dropped
    plan = nj.Plan("p")
    plan.AddStep(nj.execution_step("nothing", None))
    assert plan.Steps() == []
    ws = nj.Workspace()
    ws.feed_blob("iter", np.int64(0))
    ws.run(step)
    assert ws.fetch_blob("iter") == 2


def test_plan_stops_at_the_first_failing_step():
    ws = nj.Workspace()
    ws.feed_blob("iter", np.int64(0))
    missing = nj.Net("missing")
    missing.Relu("absent", "r")
    plan = nj.Plan("p")
    for step in (nj.execution_step("one", _iter_net()), nj.execution_step("bad", missing),
                 nj.execution_step("three", _iter_net())):
        plan.AddStep(step)
    with pytest.raises(NotFoundError, match="'absent'"):
        ws.run(plan)
    assert ws.fetch_blob("iter") == 1
    ws.run(nj.execution_step("still_usable", _iter_net()))
    assert ws.fetch_blob("iter") == 2


def _recorder(log, tag, seconds):
    def record(inputs, outputs):
        start = time.perf_counter()
        time.sleep(seconds)
        log.append((tag, start, time.perf_counter()))
    return record


def test_concurrent_substeps_overlap():
    log = []
    subs = []
    for tag in ("a", "b"):
        net = nj.Net(tag)
        net.Python(_recorder(log, tag, 0.3))([], [])
        subs.append(nj.execution_step(tag, net))
    nj.Workspace().run(nj.execution_step("par", subs, concurrent_substeps=True))
    (_, s1, e1), (_, s2, e2) = log
    assert max(s1, s2) < min(e1, e2)                 # the two intervals overlap


class Boom(Exception):
    pass


def test_failure_in_a_concurrent_substep_stops_siblings_and_keeps_workspace_consistent():
    ws = nj.Workspace()
    ws.feed_blob("spins", np.int64(0))
    spinner = nj.Net("spinner")
    spinner.Add(["spins", spinner.Const(np.int64(1))], "spins")
    spinner.Python(lambda i, o: time.sleep(0.001))([], [])
    first = nj.Net("first")
    first.Const(np.int64(1), "b_first")
    failing = nj.Net("failing")
    failing.Const(np.int64(2), "b_half")

    def explode(inputs, outputs):
        time.sleep(0.05)
        raise Boom("bad record")
    failing.Python(explode)([], [])
    step = nj.execution_step("par", [nj.execution_step("spin", spinner, num_iter=1_000_000),
                                     nj.execution_step("fail", [first, failing])],
                             concurrent_substeps=True)
    with pytest.raises(OpFailure, match="bad record") as info:
        ws.run(step)
    assert isinstance(info.value.__cause__, Boom)
    notes = " ".join(info.value.__notes__ + info.value.__cause__.__notes__)
    assert "explode" in notes and "net 'failing' (segment cpu:0/s0)" in str(info.value) and "'fail'" in notes
    assert ws.fetch_blob("b_first") == 1             # the completed net's blob is there
    assert not ws.has_blob("b_half")                 # the failed net wrote nothing
    assert ws.fetch_blob("spins") < 1_000_000        # the sibling stopped early


def test_concurrent_instances_with_create_workspace_are_isolated():
    seen, lock = [], threading.Lock()
    ws = nj.Workspace()
    ws.feed_blob("shared", np.int64(0))
    init = nj.Net("inst_init")
    init.CreateCounter([], ["mine"])                 # a new blob: local to each instance
    net = nj.Net("inst")
    net.CountUp("mine")

    def look(inputs, outputs):
        with lock:
            seen.append(inputs[0].item())
        time.sleep(0.02)
    net.Python(look)(["mine"], [])
    body = nj.execution_step("body", [init, nj.execution_step("loop", net, num_iter=3)], create_workspace=True)
    ws.run(nj.execution_step("par", [body], num_concurrent_instances=4))
    counters = {id(c) for c in seen}
    assert len(seen) == 12 and len(counters) == 4    # one counter per instance, none shared
    assert all(c.count == 3 for c in seen)           # each counted only its own 3 iterations
    assert not ws.has_blob("mine")                   # instance blobs died with them
    ws.run(init)
    shared_body = nj.execution_step("shared_body", net, num_iter=3)
    ws.run(nj.execution_step("par2", [shared_body], num_concurrent_instances=2))
    assert ws.fetch_blob("mine").item().count == 6   # without create_workspace: one shared counter
