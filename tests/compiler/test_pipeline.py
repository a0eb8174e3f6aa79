"""Every compile path runs every pass phase, through the one pipeline.

A plugin pass of POST_PLACEMENT or POST_PARTITIONING (registered here, forgotten
afterwards) must fire on a Workspace net, an execution step, a LocalSession
task group, a Session and a Program; and on the default user path too (no
pytest in the environment: passes unverified, so deferred to the compile
thread of a tiered Session), checked in a subprocess.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import netjit as nj
from netjit.backends import get_backend
from netjit.compiler.pipeline import Hooks, Stage, compile_signature
from netjit.compiler.placement import Placer
from netjit.passes import REGISTRY, Phase, register_pass


@pytest.fixture
def fired(request):
    """Registers a marker pass in ``request.param``'s phase; yields the graphs it saw."""
    seen = []
    with REGISTRY.scratch():
        @register_pass("test_marker", phase=request.param, opt_level=0)
        def marker(graph, ctx):
            """Records that it ran; changes nothing."""
            seen.append(graph.name)
            return False
        yield seen


PHASES = [Phase.POST_PLACEMENT, Phase.POST_PARTITIONING]


def _net(name):
    net = nj.Net(name)
    x = net.Placeholder("x", np.float32, (None, 3))
    net.Relu(net.Add([x, net.Const(np.ones(3, np.float32))]), "y")
    return net


def _mlp_net(name):
    net = nj.Net(name)
    x = net.Placeholder("x", np.float32, (None, 64))
    w = net.Const(np.random.default_rng(0).standard_normal((64, 96)).astype(np.float32), "w")
    b = net.Const(np.ones(96, np.float32), "b")
    net.Softmax(net.Relu(net.Add([net.MatMul([x, w]), b])), "y")
    return net


X = np.arange(6, dtype=np.float32).reshape(2, 3)


@pytest.mark.parametrize("fired", PHASES, indirect=True)
def test_a_workspace_net_runs_every_phase(fired):
    ws = nj.Workspace()
    ws.feed_blob("x", X)
    ws.run(_net("ws_net"))
    assert fired and ws.fetch_blob("y").shape == (2, 3)


@pytest.mark.parametrize("fired", PHASES, indirect=True)
def test_an_execution_step_runs_every_phase(fired):
    ws = nj.Workspace()
    ws.feed_blob("x", X)
    plan = nj.Plan("plan")
    plan.AddStep(nj.execution_step("step", _net("step_net"), num_iter=2))
    ws.run(plan)
    assert fired


@pytest.mark.parametrize("fired", PHASES, indirect=True)
def test_a_local_session_task_group_runs_every_phase(fired):
    session = nj.LocalSession()
    session.workspace.feed_blob("x", X)
    with nj.TaskGroup() as tg:
        nj.Task(step=_net("task_net"))
    session.run(tg)
    assert any(name.startswith("task_net") for name in fired), fired


@pytest.mark.parametrize("fired", PHASES, indirect=True)
def test_a_session_and_a_program_run_every_phase(fired):
    net = _net("sess_net")
    with nj.Session(net) as sess:
        sess.run("y", {"x": X})
    assert fired
    fired.clear()
    program = nj.compile(_net("prog_net"), "y", ["x"])
    np.testing.assert_allclose(program(X), np.maximum(X + 1, 0))
    assert fired


class _Recorder(Hooks):
    def __init__(self):
        super().__init__()
        self.stages = []

    def on_stage(self, stage, value):
        self.stages.append(stage)


def test_the_hooks_see_every_stage_in_order_and_until_stops():
    net = _net("hooks")
    types = {"x": nj.compiler.ops.TensorType(np.float32, (None, 3))}
    for until, expect in [(None, list(Stage)), (Stage.PLACED, list(Stage)[:3])]:
        hooks = _Recorder()
        compiled = compile_signature(net.ops, net.name, types, ["y"], (), nj.SessionConfig(tiered=False),
                                     Placer(["cpu:0"]), get_backend("reference"), hooks=hooks, until=until)
        assert hooks.stages == expect
        assert bool(compiled.executables) == (until is None)


def test_numba_backend_passes_run_on_its_segments_only():
    net = _mlp_net("mlp_segments")
    x = np.ones((3, 64), np.float32)
    for backend, ops in [("numba", {"PackedMatMul", "ReduceMax", "Exp"}), ("reference", {"Softmax", "MatMul"})]:
        with nj.Session(net, nj.SessionConfig(backend=backend, tiered=False)) as sess:
            got = sess.run("y", {"x": x})
            (entry,) = sess._cache.entries()
        seg = entry.compiled.segmentation.segments[0].graph
        assert ops <= {seg.op(n).name for n in seg.nodes()}, str(seg)
        names = [a.name for a in entry.compiled.applications]
        assert ("prepack_weights" in names) == (backend == "numba")
        np.testing.assert_allclose(got.sum(axis=-1), 1, rtol=1e-5)


SCRIPT = textwrap.dedent(r"""
    import json, sys, threading, time
    import numpy as np
    import netjit as nj
    from netjit.passes import Phase, register_pass

    marker = sys.argv[1]

    @register_pass("test_marker", phase=Phase.POST_PARTITIONING, opt_level=0)
    def mark(graph, ctx):
        "Appends its thread's name to the marker file."
        with open(marker, "a") as f:
            f.write(threading.current_thread().name + "\n")
        return False

    net = nj.Net("user")
    x = net.Placeholder("x", np.float32, (None, 3))
    net.Relu(net.Add([x, net.Const(np.ones(3, np.float32))]), "y")
    with nj.Session(net) as sess:
        sess.run("y", {"x": np.ones((2, 3), np.float32)})
        sess.wait_compiled(120)
    lines = open(marker).read().split()
    ws = nj.Workspace()                     # a Workspace net: deferred the same way
    ws.feed_blob("x", np.ones((2, 3), np.float32))
    deadline = time.monotonic() + 120
    while len(open(marker).read().split()) == len(lines) and time.monotonic() < deadline:
        ws.run(net)
        time.sleep(0.05)
    print(json.dumps(open(marker).read().split()))
""")


def test_the_default_user_path_runs_post_phases_on_the_compile_thread(tmp_path):
    """A tiered Session and a Workspace net, as a user runs them: the POST pass runs."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "NETJIT_DEBUG")}
    marker = tmp_path / "marker.txt"
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(marker)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    threads = json.loads(res.stdout.strip().splitlines()[-1])
    # the Session's signature, then the Workspace net's; deferred: not on the caller's thread
    assert len(threads) == 2 and "MainThread" not in threads, threads
