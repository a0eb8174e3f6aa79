"""Ports of Caffe2's ``caffe2/python/net_builder_test.py`` (commit 08b88cc), same nets, same numbers."""
import threading

import numpy as np
import pytest

import netjit as nj
from netjit import ops
from netjit.errors import InvalidArgumentError


def _test_loop():
    x = ops.Const(5)
    y = ops.Const(0)
    with ops.loop():
        ops.stop_if(ops.EQ([x, ops.Const(0)]))
        ops.Add([x, ops.Const(-1)], [x])
        ops.Add([y, ops.Const(1)], [y])
    return y


def _test_inner_stop(x):
    ops.stop_if(ops.LT([x, ops.Const(5)]))


def _test_outer():
    x = ops.Const(10)
    with ops.stop_guard() as g1:   # stop_if(False)
        _test_inner_stop(x)
    y = ops.Const(3)
    with ops.stop_guard() as g2:   # stop_if(True)
        _test_inner_stop(y)
    with ops.stop_guard() as g4:   # no stop
        ops.Const(0)
    with ops.stop_guard() as g3:   # empty clause
        pass
    return g1.has_stopped(), g2.has_stopped(), g3.has_stopped(), g4.has_stopped()


def _test_if(x):
    y = ops.Const(1)
    with ops.If(ops.GT([x, ops.Const(50)])):
        ops.Const(2, y)
    with ops.If(ops.LT([x, ops.Const(50)])):
        ops.Const(3, y)
        ops.stop()
        ops.Const(4, y)
    return y


def test_ops(config):
    # Caffe2: net_builder_test.TestNetBuilder.test_ops
    with nj.NetBuilder() as nb:
        y = _test_loop()
        z, w, a, b = _test_outer()
        p = _test_if(ops.Const(75))
        q = _test_if(ops.Const(25))
    plan = nj.Plan("name")
    plan.AddStep(nj.to_execution_step(nb))
    ws = nj.Workspace(config=config)
    ws.run(plan)
    expected = [(y, 5), (z, False), (w, True), (a, False), (b, False), (p, 2), (q, 3)]
    for blob, value in expected:
        assert ws.blobs[str(blob)] == value, blob


def _expected_loop():
    total = total_large = total_small = total_tiny = 0
    for loop_iter in range(10):
        outer = loop_iter * 10
        for inner_iter in range(loop_iter):
            val = outer + inner_iter
            if val >= 80:
                total_large += val
            elif val >= 50:
                total_small += val
            else:
                total_tiny += val
            total += val
    return total, total_large, total_small, total_tiny


def _actual_loop():
    total = ops.Const(0)
    total_large = ops.Const(0)
    total_small = ops.Const(0)
    total_tiny = ops.Const(0)
    with ops.loop(10) as loop:
        outer = ops.Mul([loop.iter(), ops.Const(10)])
        with ops.loop(loop.iter()) as inner:
            val = ops.Add([outer, inner.iter()])
            with ops.If(ops.GE([val, ops.Const(80)])) as c:
                ops.Add([total_large, val], [total_large])
            with c.Elif(ops.GE([val, ops.Const(50)])) as c:
                ops.Add([total_small, val], [total_small])
            with c.Else():
                ops.Add([total_tiny, val], [total_tiny])
            ops.Add([total, val], [total])
    return [nj.final_output(b) for b in (total, total_large, total_small, total_tiny)]


def test_loops(config):
    # Caffe2: net_builder_test.TestNetBuilder.test_loops
    with nj.Task() as task:
        out_actual = _actual_loop()
    with nj.LocalSession(config=config) as session:
        session.run(task)
        assert _expected_loop() == (2970, 1514, 1146, 310)
        assert [int(o.fetch()) for o in out_actual] == [2970, 1514, 1146, 310]


def test_setup(config):
    # Caffe2: net_builder_test.TestNetBuilder.test_setup
    with nj.Task() as task:
        with ops.task_init():
            one = ops.Const(1)
        two = ops.Add([one, one])
        with ops.task_init():
            three = ops.Const(3)
        accum = ops.Add([two, three])
        # here, accum should be 5
        with ops.task_exit():
            # here, accum should be 6, since this executes after lines below
            seven_1 = ops.Add([accum, one])
        six = ops.Add([accum, one])
        ops.Add([accum, one], [accum])
        seven_2 = ops.Add([accum, one])
        o6 = nj.final_output(six)
        o7_1 = nj.final_output(seven_1)
        o7_2 = nj.final_output(seven_2)
    with nj.LocalSession(config=config) as session:
        session.run(task)
        assert o6.fetch() == 6
        assert o7_1.fetch() == 7
        assert o7_2.fetch() == 7


def test_net_multi_use(config):
    # Caffe2: net_builder_test.TestNetBuilder.test_net_multi_use
    with nj.Task() as task:
        total = ops.Const(0)
        net = nj.Net("my_net")
        net.Add([total, net.Const(1)], [total])
        ops.net(net)
        ops.net(net)
        result = nj.final_output(total)
    with nj.LocalSession(config=config) as session:
        session.run(task)
        assert result.fetch() == 2


class _PythonOpStats:
    lock = threading.Lock()
    num_instances = 0
    num_calls = 0


def _python_op_builder():
    with _PythonOpStats.lock:
        _PythonOpStats.num_instances += 1

    def my_op(inputs, outputs):
        with _PythonOpStats.lock:
            _PythonOpStats.num_calls += 1
    return my_op


def test_multi_instance_python_op(config):
    # Caffe2: net_builder_test.TestNetBuilder.test_multi_instance_python_op
    with nj.TaskGroup() as tg:
        with nj.Task(num_instances=64):
            with ops.loop(4):
                ops.Python((_python_op_builder, [], {}))([], [])
    with nj.LocalSession(config=config) as session:
        _PythonOpStats.num_instances = 0
        _PythonOpStats.num_calls = 0
        session.run(tg)
        assert _PythonOpStats.num_instances == 64
        assert _PythonOpStats.num_calls == 256


def test_multi_instance(config):
    # Caffe2: net_builder_test.TestNetBuilder.test_multi_instance
    NUM_INSTANCES = 10
    NUM_ITERS = 15
    with nj.TaskGroup() as tg:
        with nj.Task(num_instances=NUM_INSTANCES):
            with ops.task_init():
                counter1 = ops.CreateCounter([], ["global_counter"])
                counter2 = ops.CreateCounter([], ["global_counter2"])
                counter3 = ops.CreateCounter([], ["global_counter3"])
            # both task_counter and local_counter should be thread local
            with ops.task_instance_init():
                task_counter = ops.CreateCounter([], ["task_counter"])
            local_counter = ops.CreateCounter([], ["local_counter"])
            with ops.loop(NUM_ITERS):
                ops.CountUp(counter1)
                ops.CountUp(task_counter)
                ops.CountUp(local_counter)
            # gather sum of squares of local counters to make sure that
            # each local counter counted exactly up to NUM_ITERS, and
            # that there was no false sharing of counter instances.
            with ops.task_instance_exit():
                count2 = ops.RetrieveCount(task_counter)
                with ops.loop(ops.Mul([count2, count2])):
                    ops.CountUp(counter2)
            # This should have the same effect as the above
            count3 = ops.RetrieveCount(local_counter)
            with ops.loop(ops.Mul([count3, count3])):
                ops.CountUp(counter3)
            # The code below will only run once
            with ops.task_exit():
                total1 = nj.final_output(ops.RetrieveCount(counter1))
                total2 = nj.final_output(ops.RetrieveCount(counter2))
                total3 = nj.final_output(ops.RetrieveCount(counter3))
    with nj.LocalSession(config=config) as session:
        session.run(tg)
        assert total1.fetch() == NUM_INSTANCES * NUM_ITERS
        assert total2.fetch() == NUM_INSTANCES * (NUM_ITERS ** 2)
        assert total3.fetch() == NUM_INSTANCES * (NUM_ITERS ** 2)


def test_builder_loop_compiles_each_net_once(config):
    ws = nj.Workspace(config=config)
    ws.feed_blob("acc", np.float32(0))
    with nj.NetBuilder() as nb:
        with ops.loop(2000) as loop:
            ops.Add(["acc", ops.Cast(loop.iter(), dtype=np.float32)], "acc")
    step = nj.to_execution_step(nb)
    ws.run(step)
    assert ws.fetch_blob("acc") == sum(range(2000))
    assert ws.root.net_cache.compilations == len(step.all_nets())    # once per net, not per iteration


def test_builder_errors():
    with pytest.raises(InvalidArgumentError, match="requires a stop condition"):
        with nj.NetBuilder():
            with ops.loop():
                ops.Const(1)
    with nj.NetBuilder():
        with ops.If(ops.Const(True)) as c:
            pass
        with c.Else() as e:
            pass
        with pytest.raises(InvalidArgumentError, match="not allowed after an Else"):
            e.Elif(ops.Const(True))
    with pytest.raises(AttributeError, match="No active NetBuilder"):
        ops.Add
