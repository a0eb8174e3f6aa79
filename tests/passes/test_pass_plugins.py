"""Plugins are found through the ``netjit.passes`` entry-point group, for real."""
import logging
import sys
import tomllib
from pathlib import Path

import numpy as np

from netjit.backends.reference import evaluate
from netjit.compiler.ir.parser import parse_graph
from netjit.compiler.bisect import bisect
from netjit.passes import (Phase, list_passes, make_context, outputs_differ,
                           plugin_errors, run_phase)
from plugin_dists import make_dist, plugins_on_path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pass_plugin"
CUBE = """graph cube(%x) {
  %x:f32[?] = Placeholder(shape=(None,))
  %three:f32[] = Const(value=f32[]3.0)
  %half:f32[] = Const(value=f32[]0.5)
  %p:f32[?] = Pow(%x, %three)
  %q:f32[?] = Pow(%x, %half)
  %y:f32[?] = Add(%p, %q)
  return %y
}"""


def _example_dist(site):
    """The example's own entry points (from its pyproject.toml) as an installed dist."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    make_dist(site, project["name"], project["entry-points"]["netjit.passes"])
    return project["name"]


def test_example_plugin_is_discovered_listed_and_runs_in_its_phase(tmp_path):
    dist = _example_dist(tmp_path)
    with plugins_on_path(tmp_path, EXAMPLE):
        records = {r.name: r for r in list_passes()}
        rec = records["strength_reduce_pow"]
        assert (rec.origin, rec.phase, rec.opt_level) == (dist, Phase.PRE_PLACEMENT, 2)
        assert rec.doc.startswith("Pow(x, n) -> x*x")
        assert records["fold_constants"].order < rec.order < records["cse"].order
        graph = parse_graph(CUBE)
        x = np.linspace(0.1, 3, 7).astype(np.float32)
        ctx = make_context(verify=True, opt_level=2)
        run_phase(parse_graph(CUBE), Phase.PRE_PLACEMENT, ctx)
        assert [a.changed for a in ctx.history if a.name == "strength_reduce_pow"] == [False]  # -O3 only
        ctx = make_context(verify=True, opt_level=1, enabled={"strength_reduce_pow"}, fast_math=True)
        run_phase(graph, Phase.PRE_PLACEMENT, ctx)
        assert [a.name for a in ctx.history if a.changed][0] == "strength_reduce_pow"
        assert "Pow(%x, %three)" not in str(graph) and "Pow(%x, %half)" in str(graph)
        assert outputs_differ(evaluate(parse_graph(CUBE), [x]), evaluate(graph, [x])) is None
    assert "strength_reduce_pow" not in {r.name for r in list_passes()}


def test_a_plugin_that_fails_to_import_is_reported_and_netjit_still_works(tmp_path, caplog):
    make_dist(tmp_path, "netjit-broken-plugin", {"broken": "nj_broken_plugin"},
              {"nj_broken_plugin": """
                  from netjit.passes import register_pass
                  @register_pass("half_registered")
                  def half_registered(graph, ctx):
                      return False
                  raise ImportError("needs libfoo")
              """})
    with caplog.at_level(logging.WARNING, logger="netjit.passes"), plugins_on_path(tmp_path):
        (err,) = plugin_errors()
        assert (err.entry_point, err.distribution) == ("broken", "netjit-broken-plugin")
        assert "needs libfoo" in err.error and "netjit-broken-plugin" in caplog.text
        assert "half_registered" not in {r.name for r in list_passes()}
        graph = parse_graph(CUBE)
        run_phase(graph, Phase.PRE_PLACEMENT, make_context(verify=True))
        assert "nj_broken_plugin" not in sys.modules


def test_plugins_load_once(tmp_path):
    make_dist(tmp_path, "netjit-count-plugin", {"count": "nj_count_plugin"},
              {"nj_count_plugin": """
                  import builtins
                  builtins.NJ_PLUGIN_LOADS = getattr(builtins, "NJ_PLUGIN_LOADS", 0) + 1
              """})
    import builtins
    with plugins_on_path(tmp_path):
        for _ in range(3):
            list_passes()
            run_phase(parse_graph(CUBE), Phase.PRE_PLACEMENT, make_context())
        assert builtins.NJ_PLUGIN_LOADS == 1
    del builtins.NJ_PLUGIN_LOADS


MISCOMPILE = """
from netjit.compiler.ops import Sub
from netjit.passes import register_pass

@register_pass("swap_sub_operands", opt_level=1, after=["simplify"], before=["cse"])
def swap_sub_operands(graph, ctx):
    '''Sub(a, b) -> Sub(b, a): deliberately wrong, and it still verifies.'''
    changed = False
    for n in graph.nodes():
        if isinstance(graph.op(n), Sub) and graph.type(graph.inputs_of(n)[0]) == graph.type(graph.inputs_of(n)[1]):
            a, b = graph.inputs_of(n)
            graph.set_input(n, 0, b)
            graph.set_input(n, 1, a)
            changed = True
    return changed
"""


def test_bisect_names_a_miscompiling_plugin_pass(tmp_path):
    make_dist(tmp_path, "netjit-evil-plugin", {"evil": "nj_evil_plugin"},
              {"nj_evil_plugin": MISCOMPILE})
    import netjit as nj
    net = nj.Net("bisect_me")
    x = net.Placeholder("x", np.float32, (None, 3))
    c = net.Mul([net.Const(np.float32(2.0)), net.Const(np.float32(3.0))])
    y = net.Sub([net.Exp(x), net.Add([x, c])], "y")
    feeds = {"x": np.arange(6, dtype=np.float32).reshape(2, 3)}
    with plugins_on_path(tmp_path):
        result = bisect(net, feeds, [y], opt_level=2)
    assert result.found and result.pass_name == "swap_sub_operands"
    assert (result.origin, result.phase) == ("netjit-evil-plugin", Phase.PRE_PLACEMENT)
    assert result.index > 1 and "output 0 differs" in result.detail
    assert len(result.trials) <= result.applications.bit_length() + 1
    assert "swap_sub_operands" in str(result)


def test_the_cheap_precheck_sees_exactly_the_dists_that_declare_plugins(tmp_path, monkeypatch):
    from netjit.passes.plugins import _may_declare_plugins
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(tmp_path)])
    assert not _may_declare_plugins()
    other = tmp_path / "other-1.0.dist-info"
    other.mkdir()
    (other / "entry_points.txt").write_text("[console_scripts]\nother = other:main\n")
    assert not _may_declare_plugins()
    make_dist(tmp_path, "late-plugin", {"late": "late_plugin"})
    assert _may_declare_plugins()
    # a zip on sys.path is not read cheaply: importlib.metadata must decide
    (tmp_path / "lib.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    monkeypatch.setattr(sys, "path", [str(tmp_path / "lib.zip")])
    assert _may_declare_plugins()
