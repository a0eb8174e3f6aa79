"""Bisect drives the whole pipeline: a wrong pass in any phase is found, by the API and the CLI."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import netjit as nj
from netjit.compiler.bisect import bisect
from netjit.compiler.ops import Add, Sub
from netjit.passes import REGISTRY, Phase, register_pass

PHASES = [Phase.PRE_PLACEMENT, Phase.POST_PLACEMENT, Phase.POST_PARTITIONING]



def break_add(graph, ctx):
    """Add(a, b) -> Sub(a, b): a deliberately wrong rewrite."""
    adds = [n for n in graph.nodes() if isinstance(graph.op(n), Add)]
    for n in adds:
        graph.set_op(n, Sub())
    return bool(adds)


def _net():
    net = nj.Net("bisect_phases")
    x = net.Placeholder("x", np.float32, (None, 3))
    w = net.Const(np.full((3, 3), 0.5, np.float32), "w")
    net.Add([net.MatMul([x, w]), x], "y")     # one Add: fusion leaves it alone
    return net


@pytest.mark.parametrize("phase", PHASES)
def test_bisect_names_a_wrong_pass_in_any_phase(phase):
    with REGISTRY.scratch():
        register_pass("test_break_add", phase=phase, opt_level=1)(break_add)
        result = bisect(_net(), {"x": np.ones((2, 3), np.float32)}, ["y"],
                        config=nj.SessionConfig(backend="reference"))
    assert result.found and result.pass_name == "test_break_add" and result.phase is phase, str(result)
    assert "output 0 differs" in result.detail


def test_bisect_names_a_wrong_segment_pass():
    test_bisect_names_a_wrong_pass_in_any_phase(Phase.SEGMENT)


def test_bisect_counts_the_backend_passes_and_finds_none_wrong():
    net = nj.Net("mlp_bisect")
    x = net.Placeholder("x", np.float32, (None, 64))
    w = net.Const(np.random.default_rng(0).standard_normal((64, 96)).astype(np.float32), "w")
    net.Softmax(net.Relu(net.MatMul([x, w])), "y")
    result = bisect(net, {"x": np.ones((4, 64), np.float32)}, ["y"], config=nj.SessionConfig(backend="numba"))
    assert not result.found, str(result)
    on_reference = bisect(net, {"x": np.ones((4, 64), np.float32)}, ["y"],
                          config=nj.SessionConfig(backend="reference"))
    # the numba compile applies expand_composites and prepack_weights to its segment as well
    assert result.applications == on_reference.applications + 2


MODULE = textwrap.dedent("""
    import numpy as np
    import netjit as nj
    from netjit.compiler.ops import Add, Sub
    from netjit.passes import Phase, register_pass

    @register_pass("test_break_add", phase=Phase.{phase}, opt_level=1)
    def break_add(graph, ctx):
        "Add(a, b) -> Sub(a, b): a deliberately wrong rewrite."
        adds = [n for n in graph.nodes() if isinstance(graph.op(n), Add)]
        for n in adds:
            graph.set_op(n, Sub())
        return bool(adds)

    def net():
        n = nj.Net("broken")
        x = n.Placeholder("x", np.float32, (None, 3))
        n.Add([n.MatMul([x, n.Const(np.full((3, 3), 0.5, np.float32))]), x], "y")
        return n
""")


@pytest.mark.parametrize("phase", PHASES)
def test_the_bisect_command_names_it_too(phase, tmp_path):
    (tmp_path / "broken.py").write_text(MODULE.format(phase=phase.name))
    np.save(tmp_path / "x.npy", np.ones((2, 3), np.float32))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "NETJIT_DEBUG", "COLUMNS")}
    script = Path(sys.executable).parent / "netjit"
    proc = subprocess.run([str(script), "bisect", "broken.py:net", "--feed", "x=x.npy", "--fetch", "y"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "first bad pass application" in proc.stdout and "'test_break_add'" in proc.stdout
    assert f"in phase {phase.name}" in proc.stdout
