"""Steps and counters refuse values that would overflow or exhaust the machine."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import netjit as nj
from netjit import ops
from netjit.errors import InvalidArgumentError


@pytest.mark.parametrize("bad", [2**64, -1, 1.5, True])
def test_num_iter_is_an_int64_count(bad):
    net = nj.Net("n")
    net.Const(1, "one")
    with pytest.raises(InvalidArgumentError, match="num_iter must be an int"):
        nj.execution_step("s", net, num_iter=bad)


def test_a_counter_starts_within_int64():
    net = nj.Net("c")
    with pytest.raises(InvalidArgumentError, match="init_count must be an int64"):
        net.CreateCounter([], ["c"], init_count=2**70)


def test_a_counter_at_int64_max_refuses_to_count_up():
    net = nj.Net("c")
    c = net.CreateCounter([], ["c"], init_count=2**63 - 1)
    net.CountUp(c)
    with pytest.raises(InvalidArgumentError, match="would overflow"):
        nj.Workspace().run(net)


def test_many_instances_run_on_a_bounded_number_of_threads(monkeypatch):
    monkeypatch.setenv("NETJIT_MAX_STEP_THREADS", "8")
    seen = set()

    def record(inputs, outputs):
        seen.add(threading.current_thread().name)

    with nj.TaskGroup() as tg:
        with nj.Task(num_instances=500):
            with ops.task_init():
                hits = ops.CreateCounter([], ["hits"])
            ops.CountUp(hits)
            ops.Python(record)([], [])
            with ops.task_exit():
                total = nj.final_output(ops.RetrieveCount(hits))
    with nj.LocalSession(nj.Workspace()) as session:
        session.run(tg)
    assert total.fetch() == 500
    assert 1 <= len(seen) <= 8


def test_an_external_input_nobody_wrote_is_not_found():
    net = nj.Net("b")
    net.AddExternalInput("nope")
    net.Const(np.float32(1), "one")
    with pytest.raises(nj.errors.NotFoundError, match="external input 'nope' does not exist"):
        nj.Workspace().run(net)
