"""LocalSession, tasks and task groups (Caffe2's session.py / task.py semantics)."""
import importlib.util
import pathlib
import time

import numpy as np
import pytest

import netjit as nj
from netjit import ops
from netjit.errors import FailedPreconditionError, InvalidArgumentError

EXAMPLE = pathlib.Path(__file__).parents[3] / "examples" / "caffe2_session.py"


def test_session_docstring_example_runs(capsys):
    # Caffe2: the example in the docstring of session.Session
    spec = importlib.util.spec_from_file_location("caffe2_session_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    ws = example.main().workspace
    out = capsys.readouterr().out
    assert "Hello from node 1." in out and "Hello from node 2." in out
    assert ws.fetch_blob("test1/Add") == 3                              # the net ran globally
    assert ws.fetch_blob("n1setup/Const").item() == "Hello from node 1."  # GLOBAL group: stays
    assert not ws.has_blob("n2/Const")                                  # PRIVATE group: released


def test_local_session(config):
    # Caffe2: session_test.TestLocalSession.test_local_session (the reader/processor/writer
    # pipes become one PRIVATE task running proc1, proc2 and the writer in sequence)
    ws = nj.Workspace(config=config)
    ws.feed_blob("init/uid", np.array([1, 2, 6]))
    ws.feed_blob("init/value", np.array([1.4, 1.6, 1.7]))
    init_net = nj.Net("init")                       # the destination record, empty
    init_net.Const(np.zeros(3, np.int64), "dst/uid")
    init_net.Const(np.zeros(3, np.float64), "dst/value")
    proc1 = nj.Net("proc1")
    proc1.Add(["init/uid", "init/uid"], "proc1/uid")
    proc1.Copy("init/value", "proc1/value")
    proc2 = nj.Net("proc2")
    proc2.Copy("proc1/uid", "proc2/uid")
    proc2.Sub(["proc1/value", "proc1/value"], "proc2/value")
    writer = nj.Net("writer")
    writer.Copy("proc2/uid", "dst/uid")
    writer.Copy("proc2/value", "dst/value")
    with nj.TaskGroup() as tg:
        nj.Task(step=[proc1, proc2, writer])
    session = nj.LocalSession(ws)
    session.run(init_net)
    session.run(tg)
    np.testing.assert_array_equal(ws.fetch_blob("dst/uid"), [2, 4, 12])
    np.testing.assert_array_equal(ws.fetch_blob("dst/value"), [0.0, 0.0, 0.0])
    assert not ws.has_blob("proc1/uid")             # the private task's blobs are gone


def _writer_task(tag, **task_kwargs):
    net = nj.Net(f"writer_{tag}")
    net.Add(["base", net.Const(np.int64(1))], "base")      # exists globally: writes through
    net.Const(np.int64(7), f"tmp_{tag}")                   # new: lives where the task runs
    return nj.Task(step=net, **task_kwargs)


def test_private_vs_global_task_groups():
    session = nj.LocalSession()
    ws = session.workspace
    ws.feed_blob("base", np.int64(0))
    with nj.TaskGroup(nj.WorkspaceType.PRIVATE) as private:
        _writer_task("p")
    with nj.TaskGroup(nj.WorkspaceType.GLOBAL) as global_:
        _writer_task("g")
    assert not ws.has_blob("tmp_p") and not ws.has_blob("tmp_g")
    session.run(private)
    assert ws.fetch_blob("base") == 1 and not ws.has_blob("tmp_p")
    session.run(global_)
    assert ws.fetch_blob("base") == 2 and ws.fetch_blob("tmp_g") == 7
    session.run(private)                            # re-running reuses the compiled group
    assert ws.fetch_blob("base") == 3 and not ws.has_blob("tmp_p")


def test_local_setup_of_a_private_group_does_not_leak():
    session = nj.LocalSession()
    with nj.TaskGroup() as tg:
        with nj.Task():
            with ops.local_init():
                ops.Const(np.int64(5), "local_setup_blob")
            ops.Python(lambda i, o: seen.append(i[0].item()))(["local_setup_blob"], [])
    seen = []
    session.run(tg)
    assert seen == [5]                              # the tasks saw the node's setup blob
    assert not session.workspace.has_blob("local_setup_blob")


def _sleeper_task(node, log):
    net = nj.Net(f"sleep_{node}")

    def record(inputs, outputs):
        start = time.perf_counter()
        time.sleep(0.3)
        log.append((node, start, time.perf_counter()))
    net.Python(record)([], [])
    with nj.Node(node):
        return nj.Task(step=net)


def test_two_nodes_run_concurrently():
    log = []
    with nj.TaskGroup() as tg:
        _sleeper_task("node1", log)
        _sleeper_task("node2", log)
    assert tg.used_nodes() == ["node1", "node2"]
    nj.LocalSession().run(tg)
    (_, s1, e1), (_, s2, e2) = sorted(log)
    assert max(s1, s2) < min(e1, e2)                # both tasks were running at once


def test_compile_cache_and_wrong_session_class():
    class OtherSession(nj.LocalSession):
        pass
    net = nj.Net("cached")
    net.Add(["x", net.Const(np.int64(1))], "x")
    compiled = nj.LocalSession.compile(net)
    assert nj.LocalSession.compile(net) is compiled
    assert nj.LocalSession.compile(compiled) is compiled
    assert OtherSession.compile(net) is not compiled           # caches are per session class
    with pytest.raises(FailedPreconditionError,
                       match="compiled for different session type. Need: OtherSession, got: LocalSession"):
        OtherSession().run(compiled)
    session = nj.LocalSession()
    session.workspace.feed_blob("x", np.int64(0))
    session.run(net)
    compiled_nets = session.workspace.root.net_cache.compilations   # the net and the dummy output net
    for _ in range(2):
        session.run(net)
    assert session.workspace.fetch_blob("x") == 3
    assert session.workspace.root.net_cache.compilations == compiled_nets == 2
    net.Mul(["x", "x"], "sq")                       # no snapshot: later ops run on the next run
    session.run(compiled)
    assert session.workspace.fetch_blob("sq") == 16


def test_closed_session_and_context_manager():
    net = nj.Net("closing")
    net.Const(np.int64(1), "one")
    with nj.LocalSession() as session:
        session.run(net)
    assert not session.is_open()
    with pytest.raises(FailedPreconditionError, match="Session is closed."):
        session.run(net)
    with pytest.raises(FailedPreconditionError, match="Session already closed."):
        with session:
            pass
    session.close()                                 # idempotent
    other = nj.LocalSession()
    with pytest.raises(RuntimeError):
        with other:
            raise RuntimeError("inside")
    assert other.is_open()                          # an exception does not close it


def test_task_outputs_and_errors():
    with nj.TaskGroup() as tg:
        with nj.Task() as task:
            total = ops.Const(np.int64(41))
            ops.Add([total, ops.Const(np.int64(1))], [total])
            out = nj.final_output(total)
    with pytest.raises(FailedPreconditionError, match="Cannot fetch value"):
        out.fetch()
    with pytest.raises(FailedPreconditionError, match="Output value not set yet"):
        out.get()
    nj.LocalSession().run(tg)
    assert out.fetch() == 42 and out.get() == str(total)
    assert task.outputs() == [out]
    with pytest.raises(FailedPreconditionError, match="already been used"):
        task.add_output(total)
    with pytest.raises(FailedPreconditionError, match="already used TaskGroup"):
        tg.add(nj.Task(step=nj.Net("late"), group=None))
    with nj.TaskGroup(nj.WorkspaceType.GLOBAL) as mixed:
        nj.Task(step=nj.Net("private_one"), workspace_type=nj.WorkspaceType.PRIVATE)
    with pytest.raises(InvalidArgumentError, match="private but its TaskGroup is global"):
        nj.LocalSession().run(mixed)


def test_bare_private_task_stays_private():
    session = nj.LocalSession()
    task = _writer_task("bare", workspace_type=nj.WorkspaceType.PRIVATE)
    session.workspace.feed_blob("base", np.int64(0))
    session.run(task)
    assert session.workspace.fetch_blob("base") == 1 and not session.workspace.has_blob("tmp_bare")


def test_plan_and_step_run_in_the_global_workspace():
    session = nj.LocalSession()
    net = nj.Net("g")
    net.Const(np.int64(3), "from_plan")
    session.run(nj.Plan(nj.execution_step("s", net)))
    session.run(nj.execution_step("s2", [net, net]))
    assert session.workspace.fetch_blob("from_plan") == 3


def test_cluster_records_nodes():
    with nj.Cluster() as cluster:
        with nj.Node("trainer", gpus=2):
            with nj.TaskGroup() as tg:
                net = nj.Net("t")                        # net names are unique process-wide
                task = nj.Task(step=net)
        nj.Node("reader")
    assert cluster.nodes() == ["trainer", "reader"]
    assert cluster.node_kwargs()["trainer"] == {"gpus": 2}
    assert task.node == "trainer" and task.name == f"trainer/{net.name}" and tg.used_nodes() == ["trainer"]


def test_a_step_already_in_a_plan_can_still_be_a_task():
    net = nj.Net("used")
    net.Const(np.int64(1), "one")
    step = nj.execution_step("used_step", net)
    nj.Plan("elsewhere").AddStep(step)               # the step is now immutable
    task = nj.Task(step=step, outputs=["one"], workspace_type=nj.WorkspaceType.PRIVATE)
    with nj.LocalSession() as session:
        session.run(task)
        assert task.outputs()[0].fetch() == 1       # the output was written through
        assert not step.create_workspace             # the user's step was not changed
