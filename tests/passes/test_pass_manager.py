"""Registry, options, pass manager, instruments: ordering, selection, fixed
points, verification naming the pass that broke the graph, dumps, bisect limit."""
import json
import logging

import numpy as np
import pytest

import netjit as nj
from netjit.compiler.ir.parser import parse_graph
from netjit.compiler.ops import Const, Neg
from netjit.compiler.pipeline import optimize
from netjit.errors import InvalidArgumentError, NotFoundError, PassError
from netjit.compiler.bisect import bisect
from netjit.passes import (REGISTRY, Phase, PassInstrument, make_context,
                           register_pass, run_phase, select)
from netjit.passes.options import from_config

TEXT = """graph t(%x) {
  %x:f32[?,4] = Placeholder(shape=(None, 4))
  %z:f32[] = Const(value=f32[]0.0)
  %a:f32[?,4] = Add(%x, %z)
  %b:f32[?,4] = Exp(%a)
  %c:f32[?,4] = Exp(%a)
  %d:f32[?,4] = Sub(%b, %c)
  %e:f32[?,4] = Log(%x)
  return %d
}"""


@pytest.fixture
def scratch():
    with REGISTRY.scratch() as reg:
        yield reg


def _names(phase=Phase.PRE_PLACEMENT, **options):
    return [p.name for p in select(phase, make_context(**options).options)]


def test_default_order_and_opt_levels(scratch):
    assert _names(opt_level=0) == ["prune"]
    assert _names(opt_level=1) == ["prune", "fold_constants", "simplify", "cse", "dce"]
    assert _names(opt_level=2)[-1] == "fuse_elementwise"
    assert _names(opt_level=2, disabled={"cse"}, enabled={"fuse_elementwise"})[3:] == ["dce", "fuse_elementwise"]
    assert _names(opt_level=0, enabled={"cse"}) == ["prune", "cse"]
    register_pass("t_a", after=["fuse_elementwise"])(lambda g, c: False)
    register_pass("t_b", after=["fuse_elementwise"])(lambda g, c: False)
    assert _names()[-2:] == ["t_a", "t_b"]
    assert _names(order=("t_b", "t_a"))[-2:] == ["t_b", "t_a"]


def test_a_pass_registered_outside_a_plugin_is_labelled_by_its_module(scratch):
    from netjit.passes import list_passes
    register_pass("t_user")(lambda g, c: False)
    origins = {r.name: r.origin for r in list_passes()}
    assert origins["t_user"] == f"user: {__name__}"
    assert origins["cse"] == origins["prune"] == "built-in"


def test_bad_pass_options_are_errors_naming_the_pass():
    with pytest.raises(NotFoundError, match="'no_such_pass'"):
        _names(disabled={"no_such_pass"})
    with pytest.raises(InvalidArgumentError, match="'prune'.*cannot be disabled"):
        _names(disabled={"prune"})
    with pytest.raises(InvalidArgumentError, match="fold_constants.*'max_size'"):
        _names(pass_options={"fold_constants": {"max_size": 3}})
    with pytest.raises(PassError, match="cycle"):
        _names(order=("fuse_elementwise", "prune"))


def test_registration_refuses_duplicates_and_cycles_naming_the_passes(scratch):
    with pytest.raises(PassError, match="'cse' is registered twice"):
        register_pass("cse")(lambda g, c: False)
    register_pass("t_first", before=["t_second"])(lambda g, c: False)
    with pytest.raises(PassError, match="t_first -> t_second -> t_first|t_second -> t_first -> t_second"):
        register_pass("t_second", before=["t_first"])(lambda g, c: False)
    assert "t_second" not in REGISTRY.passes and "t_first" in REGISTRY.passes


def test_options_from_config_and_environment():
    cfg = nj.SessionConfig(opt_level=1, disabled_passes=("cse",), fast_math=True,
                           pass_options={"fold_constants": {"max_elements": 8}})
    env = {"NETJIT_OPT_LEVEL": "3", "NETJIT_DISABLE_PASSES": "dce, simplify",
           "NETJIT_DUMP_DIR": "/tmp/d", "NETJIT_PASS_BISECT": "5"}
    o = from_config(cfg, env=env)
    assert (o.opt_level, o.disabled, o.dump_dir, o.bisect_limit, o.fast_math) == \
        (3, {"cse", "dce", "simplify"}, "/tmp/d", 5, True)
    assert from_config(cfg, env={}).opt_level == 1 and not from_config(None, env={}).verify
    assert from_config(None, env={"PYTEST_CURRENT_TEST": "t"}).verify
    assert from_config(None, env={"NETJIT_DEBUG": "1"}).verify
    assert not from_config(nj.SessionConfig(verify_passes=False), env={"NETJIT_DEBUG": "1"}).verify
    assert from_config(cfg, env=env, opt_level=0).opt_level == 0
    assert from_config(cfg, env=env, disabled={"fuse_elementwise"}).disabled == \
        {"fuse_elementwise", "dce", "simplify"}
    with pytest.raises(InvalidArgumentError, match="NETJIT_OPT_LEVEL"):
        from_config(None, env={"NETJIT_OPT_LEVEL": "two"})


def test_pipeline_optimize_uses_the_session_config():
    g = parse_graph(TEXT)
    optimize(g, nj.SessionConfig(opt_level=0))
    assert len(g) == 6  # only the dead Log went
    g = parse_graph(TEXT)
    optimize(g, nj.SessionConfig(opt_level=2))
    assert len(g) == 2 and "program=((Exp(), (0,)), (Sub(), (1, 1)))" in str(g)


def _drop_input_pass(graph, ctx):
    """Deliberately broken: drops the first input edge of every Sub."""
    for n in graph.nodes():
        if graph.op(n).name == "Sub":
            u, _, k = next((u, v, k) for u, v, k, d in graph.nx.in_edges(n, keys=True, data=True)
                           if d["dst_in"] == 0)
            graph.nx.remove_edge(u, n, k)
            return True
    return False


def test_verification_names_the_pass_that_broke_the_graph(scratch):
    register_pass("drop_input", after=["simplify"], before=["cse"])(_drop_input_pass)
    with pytest.raises(PassError) as info:
        run_phase(parse_graph(TEXT), Phase.PRE_PLACEMENT, make_context(verify=True))
    msg = str(info.value)
    assert "pass 'drop_input'" in msg and "input ports [1]" in msg
    assert "passes applied before it: prune, fold_constants, simplify" in msg
    result = bisect(parse_graph(TEXT), {"x": np.ones((2, 4), np.float32)})
    assert result.pass_name == "drop_input" and result.index == 4
    assert "PassError" in result.detail


def test_a_pass_that_raises_is_named_with_the_cause(scratch):
    @register_pass("explodes", after=["prune"])
    def explodes(graph, ctx):
        raise KeyError("oops")
    with pytest.raises(PassError, match="pass 'explodes'.*raised KeyError") as info:
        run_phase(parse_graph(TEXT), Phase.PRE_PLACEMENT, make_context())
    assert isinstance(info.value.__cause__, KeyError)


def test_fixed_point_iterates_and_reports_non_convergence(scratch):
    @register_pass("peel_neg", fixed_point=True, after=["dce"])
    def peel_neg(graph, ctx):
        """Neg(Neg(x)) -> x, one pair per application."""
        for n in graph.nodes():
            (v,) = graph.inputs_of(n) if isinstance(graph.op(n), Neg) else [(n, None)]
            if v[1] is not None and isinstance(graph.op(v[0]), Neg):
                graph.replace_all_uses((n, 0), graph.inputs_of(v[0])[0])
                return True
        return False
    g = parse_graph(TEXT.replace("%d:f32[?,4] = Sub(%b, %c)", "%n1:f32[?,4] = Neg(%b)\n  "
                                 "%n2:f32[?,4] = Neg(%n1)\n  %n3:f32[?,4] = Neg(%n2)\n  "
                                 "%n4:f32[?,4] = Neg(%n3)\n  %d:f32[?,4] = Sub(%n4, %c)"))
    ctx = make_context(verify=True, opt_level=1, disabled={"simplify"})
    run_phase(g, Phase.PRE_PLACEMENT, ctx)
    assert max(a.iteration for a in ctx.history) == 3 and "Neg" not in str(g)

    register_pass("never_done", fixed_point=True)(lambda graph, ctx: True)
    with pytest.raises(PassError, match="did not reach a fixed point after 8 iterations.*never_done"):
        run_phase(parse_graph(TEXT), Phase.PRE_PLACEMENT, make_context())


def test_bisect_limit_skips_later_applications_but_not_required_ones(caplog):
    ctx = make_context(opt_level=2, bisect_limit=2)
    g = parse_graph(TEXT)
    with caplog.at_level(logging.INFO, logger="netjit.passes"):
        run_phase(g, Phase.PRE_PLACEMENT, ctx)
    assert [(a.name, a.skipped) for a in ctx.history][:3] == \
        [("prune", False), ("fold_constants", False), ("simplify", True)]
    assert "not running application 3 (simplify" in caplog.text
    assert "Add(%x, %z)" in str(g)
    ctx = make_context(bisect_limit=0)
    run_phase(g, Phase.PRE_PLACEMENT, ctx)
    assert not ctx.history[0].skipped  # prune is required


def test_instruments_see_every_application_and_dumps_are_numbered(tmp_path):
    class Recorder(PassInstrument):
        def __init__(self):
            self.events = []

        def enter_phase(self, graph, phase, ctx):
            self.events.append(("enter", phase.name))

        def run_after_pass(self, graph, app, ctx):
            self.events.append((app.index, app.name, app.changed))

    rec = Recorder()
    ctx = make_context(opt_level=2, dump_dir=tmp_path, instruments=[rec])
    g = parse_graph(TEXT)
    run_phase(g, Phase.PRE_PLACEMENT, ctx)
    assert rec.events[0] == ("enter", "PRE_PLACEMENT")
    assert rec.events[1:4] == [(1, "prune", True), (2, "fold_constants", False), (3, "simplify", True)]
    files = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert files[:4] == ["000-input-pre_placement.txt", "001-prune.txt", "002-fold_constants.txt",
                         "003-simplify.txt"]
    last = sorted((tmp_path / "t").glob("0*-*.txt"))[-1].read_text()
    assert last.splitlines()[0].startswith("# after ") and last.endswith(str(g) + "\n")
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert [r["pass"] for r in summary] == [a.name for a in ctx.history]
    assert summary[0]["nodes_before"] == 7 and summary[0]["nodes_after"] == 6
    assert "simplify" in (tmp_path / "t" / "summary.txt").read_text()


def test_session_passes_dump_dir_and_opt_level_through(tmp_path):
    net = nj.Net("dumped")
    x = net.Placeholder("x", np.float32, (None,))
    y = net.Add([net.Mul([x, net.Const(np.float32(1.0))]), net.Const(np.float32(0.0))], "y")
    with nj.Session(net, nj.SessionConfig(dump_dir=str(tmp_path), backend="reference")) as s:
        np.testing.assert_array_equal(s.run(y, {x: np.arange(3, dtype=np.float32)}), [0, 1, 2])
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("dumped")]
    assert (folder / "summary.txt").exists() and any("simplify" in p.name for p in folder.iterdir())


def test_analysis_cache_is_shared_until_a_pass_changes_the_graph(scratch):
    computed = []

    def analysis(graph, ctx):
        return ctx.analyses.get(graph, "node_count", lambda: computed.append(len(graph)) or len(graph))

    register_pass("t_read1", after=["prune"], before=["fold_constants"])(lambda g, c: analysis(g, c) and False)
    register_pass("t_read2", after=["t_read1"], before=["fold_constants"])(lambda g, c: analysis(g, c) and False)
    register_pass("t_read3", after=["dce"])(lambda g, c: analysis(g, c) and False)
    run_phase(parse_graph(TEXT), Phase.PRE_PLACEMENT, make_context(opt_level=1))
    assert computed == [6, 3]  # once after prune, again after simplify/cse/dce changed it


def test_a_pass_that_changes_the_graph_but_returns_false_counts_as_changed(scratch, caplog):
    @register_pass("liar", after=["prune"], before=["fold_constants"])
    def liar(graph, ctx):
        graph.add(Const(np.float32(1.0)))
        return False
    ctx = make_context(opt_level=1)
    with caplog.at_level(logging.WARNING, logger="netjit.passes"):
        run_phase(parse_graph(TEXT), Phase.PRE_PLACEMENT, ctx)
    assert ctx.history[1].name == "liar" and ctx.history[1].changed
    assert "'liar' changed graph 't' but returned False" in caplog.text
