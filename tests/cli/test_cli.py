"""The real ``netjit`` console script, run in subprocesses, for every subcommand.

Each subcommand runs at least once as the installed script in a subprocess;
further checks of the same command run ``main()`` in process (a subprocess
costs about a second of imports).

Stages that other parts of netjit provide (pass manager, placement, traces)
are checked either way they can be: real output when the API is there, a
clean one-line "not available" error when it is not.
"""
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from netjit.cli.demo import build_demo_net, numpy_eager
from netjit.cli.main import main

SCRIPT = Path(sys.executable).parent / "netjit"
HAVE_DOT = shutil.which("dot") is not None


def netjit(*args, cwd, path=None, check=True, plain=True):
    """Run the console script; returns (returncode, stdout, stderr)."""
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if path is not None:
        env["PATH"] = path
    proc = subprocess.run([str(SCRIPT), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert ("\x1b[" not in proc.stdout) == plain, "escape codes only when colour is forced"
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def clean_error(rc, err, *words):
    assert rc == 1
    assert err.startswith("netjit ") and "error:" in err
    for w in words:
        assert w in err, err


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    build_demo_net().save(d / "demo.json")
    np.save(d / "x.npy", np.random.default_rng(0).standard_normal((4, 784)).astype(np.float32))
    return d


@pytest.fixture
def cli(work, capsys, monkeypatch):
    """``netjit`` in this process: cheaper than a subprocess, for the checks beyond one real run each."""
    monkeypatch.chdir(work)

    def run(*args, check=True):
        rc = main([str(a) for a in args])
        cap = capsys.readouterr()
        assert "Traceback" not in cap.err and "\x1b[" not in cap.out
        if check:
            assert rc == 0, cap.err
        return rc, cap.out, cap.err
    return run


def ir_lines(text):
    lines = text.strip().splitlines()
    assert lines[0].startswith("graph demo") and lines[-1] == "}"
    return [ln for ln in lines[1:-1] if not ln.lstrip().startswith("#")]  # skip comment lines


def test_script_is_installed_and_help_lists_every_command(work):
    _, out, _ = netjit("--help", cwd=work)
    for cmd in ("demo", "inspect", "passes", "compile", "run", "bisect", "diff"):
        assert cmd in out


@pytest.mark.parametrize("cmd", ["demo", "inspect", "passes", "compile", "run", "bisect", "diff"])
def test_every_command_has_help_with_an_example(cmd, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([cmd, "--help"])
    assert exit_.value.code == 0
    assert "example: netjit " + cmd in capsys.readouterr().out


def test_inspect_text_json_dot(work, cli):
    _, text, _ = netjit("inspect", "demo.json", cwd=work)
    body = ir_lines(text)
    assert len(body) == 18 and body[-1] == "  return %y"
    assert any(line.startswith("  %logits:f32[?,10] = MatMul(%h, %w2)") for line in body)
    _, doc, _ = cli("inspect", "demo.json", "--format", "json", "--fetch", "h")
    doc = json.loads(doc)
    assert doc["format"] == "netjit-ir" and len(doc["nodes"]) == 6   # pruned to h: x w1 b1 MatMul Add Relu
    (work / "h.json").write_text(json.dumps(doc))
    _, h_text, _ = cli("inspect", "h.json")   # an IR .json file shows as it is
    assert len(ir_lines(h_text)) == 7 and "return %h" in h_text
    _, dot, _ = cli("inspect", "demo.json", "--format", "dot")
    assert dot.startswith('digraph "demo') and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    if HAVE_DOT:
        check = subprocess.run(["dot", "-Tcanon"], input=dot, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def test_inspect_module_function_and_feed_prunes(cli):
    rc, text, _ = cli("inspect", "netjit.cli.demo:build_demo_net", "--feed", "h", "--fetch", "y")
    body = ir_lines(text)
    assert body[0].startswith("  %h:f32[?,?] = Placeholder")
    assert not any("MatMul(%x" in line for line in body)


@pytest.mark.skipif(not HAVE_DOT, reason="Graphviz `dot` is not installed here (the absent case is tested below)")
def test_inspect_svg_and_html_with_graphviz(work, cli):
    netjit("inspect", "demo.json", "--format", "svg", "-o", "demo.svg", cwd=work)
    root = ET.parse(work / "demo.svg").getroot()
    assert root.tag.endswith("svg") and "MatMul" in (work / "demo.svg").read_text()
    _, page, _ = cli("inspect", "demo.json", "--format", "html")
    assert "<svg" in page and "<table>" in page
    assert "http://" not in page and "https://" not in page


def test_inspect_svg_and_html_without_graphviz(work, cli, monkeypatch):
    rc, _, err = netjit("inspect", "demo.json", "--format", "svg", cwd=work, path="/nonexistent", check=False)
    clean_error(rc, err, "Graphviz", "--format dot")
    monkeypatch.setenv("PATH", "/nonexistent")
    _, page, _ = cli("inspect", "demo.json", "--format", "html")
    assert page.startswith("<!DOCTYPE html>") and "No picture" in page and "<svg" not in page
    assert "http://" not in page and "https://" not in page
    assert page.count("<tr>") == 1 + 17   # header + one row per node


def test_stages_passes_and_after(work, cli):
    _, low, _ = cli("inspect", "demo.json", "--stage", "lowered")
    _, opt, _ = cli("inspect", "demo.json", "--stage", "optimized")
    assert len(ir_lines(opt)) < len(ir_lines(low))
    rc, out, err = netjit("passes", "--format", "json", cwd=work, check=False)
    if rc:
        clean_error(rc, err, "not landed")
        return
    rows = json.loads(out)
    assert {"prune", "fuse_elementwise"} <= {r["name"] for r in rows}
    assert all(r["origin"] and r["phase"] for r in rows)
    _, table, _ = cli("passes")
    assert rows[0]["phase"] in table and "fuse_elementwise" in table
    _, after, _ = cli("inspect", "demo.json", "--after", "fuse_elementwise")
    assert "FusedElementwise(" in after
    rc, _, err = cli("inspect", "demo.json", "--after", "no_such_pass", check=False)
    clean_error(rc, err, "no_such_pass")


def test_placed_and_partitioned_stages(cli):
    rc, out, err = cli("inspect", "demo.json", "--stage", "placed", check=False)
    if rc:
        clean_error(rc, err, "not available")
        return
    assert all("@cpu:0" in line for line in ir_lines(out) if "=" in line)
    _, part, _ = cli("inspect", "demo.json", "--partition", "0", "--format", "json")
    name = json.loads(part)["name"]
    assert name.startswith("demo") and name.endswith("@cpu:0")
    rc, _, err = cli("inspect", "demo.json", "--partition", "3", check=False)
    clean_error(rc, err, "--partition 3", "1 partitions")


def test_compile_dumps_every_stage_and_diff_reads_them(work, cli):
    _, out, _ = netjit("compile", "demo.json", "--dump-dir", "dump", cwd=work)
    assert "lowered" in out and "optimized" in out
    summary = json.loads((work / "dump" / "summary.json").read_text())
    assert summary["stages"]["lowered"]["nodes"] == 17
    lowered, optimized = work / "dump" / "stage-0-lowered.txt", work / "dump" / "stage-1-optimized.txt"
    assert lowered.read_text().startswith("graph demo")
    dumps = [p for p in (work / "dump" / "passes").rglob("[0-9][0-9][0-9]-*.txt") if "-input-" not in p.name]
    assert len(dumps) == len(summary["passes"]) > 0
    _, diff, _ = netjit("diff", lowered, optimized, cwd=work)
    lines = diff.splitlines()
    assert lines[0].startswith("--- ") and lines[1].startswith("+++ ") and lines[2].startswith("@@")
    assert any(line.startswith("-") and "Relu" in line for line in lines[2:])
    _, same, _ = cli("diff", lowered, lowered)
    assert same.startswith("no differences")


def test_diff_of_one_net_side_by_side(cli):
    _, out, _ = cli("diff", "demo.json", "--side-by-side")
    assert "lowered" in out.splitlines()[0] and "optimized" in out.splitlines()[0]
    assert " | " in out


def test_run_prints_saves_and_matches_numpy(work, cli):
    _, out, _ = netjit("run", "demo.json", "--feed", "x=x.npy", "--fetch", "y", "--out", "out", cwd=work)
    assert "y: float32[4, 10]" in out and "40 values" in out
    expect = numpy_eager(build_demo_net())(np.load(work / "x.npy"))
    np.testing.assert_allclose(np.load(work / "out" / "y.npy"), expect, rtol=1e-4, atol=1e-6)
    rc, out, err = cli("run", "demo.json", "--feed", "x=x.npy", "--trace", "t.json", check=False)
    if rc:
        clean_error(rc, err, "--trace", "not landed")
    else:
        assert "traceEvents" in json.loads((work / "t.json").read_text())
        assert "step stats" in out and "/cpu:0/s0" in out
    rc, _, err = cli("run", "demo.json", "--feed", "x=missing.npy", check=False)
    clean_error(rc, err, "missing.npy")


BROKEN = """
import numpy as np
import netjit as nj
from netjit.compiler.ops import Add, Sub
from netjit.passes import Phase, register_pass


@register_pass("test_break_add", phase=Phase.PRE_PLACEMENT, opt_level=1, before=["fuse_elementwise"])
def break_add(graph, ctx):
    \"\"\"Add(a, b) -> Sub(a, b): a deliberately wrong rewrite.\"\"\"
    adds = [n for n in graph.nodes() if isinstance(graph.op(n), Add)]
    for n in adds:
        graph.set_op(n, Sub())
    return bool(adds)


def net():
    n = nj.Net("broken")
    x = n.Placeholder("x", np.float32, (None, 3))
    n.Relu(n.Add([x, n.Const(np.ones(3, np.float32))]), "y")
    return n
"""


def test_bisect_after_and_diff_find_a_broken_pass_from_a_module(work, cli):
    (work / "broken.py").write_text(BROKEN)
    np.save(work / "x3.npy", np.ones((2, 3), np.float32))
    rc, out, err = netjit("bisect", "broken.py:net", "--feed", "x=x3.npy", "--fetch", "y", cwd=work, check=False)
    if rc:  # the pass manager has not landed: the module cannot even register its pass
        assert "netjit.passes" in err or "not landed" in err
        return
    assert "first bad pass application" in out and "'test_break_add'" in out
    _, after, _ = netjit("inspect", "broken.py:net", "--after", "test_break_add", cwd=work)
    assert "= Sub(%x" in after and "Add(" not in after
    _, diff, _ = netjit("diff", "broken.py:net", "--pass", "test_break_add", cwd=work)
    assert any(line.startswith("-") and "Add(%x" in line for line in diff.splitlines())
    assert any(line.startswith("+") and "Sub(%x" in line for line in diff.splitlines())
    _, good, _ = cli("bisect", "demo.json", "--feed", "x=x.npy", "--fetch", "y")
    assert good.startswith("no pass application changes the results")


def test_demo_shows_ir_before_after_and_speed(work):
    _, out, _ = netjit("demo", "--save", "again.json", cwd=work)
    for part in ("== IR as lowered ==", "== IR after optimisation ==", "NumPy eager per call", "vs NumPy"):
        assert part in out
    assert (work / "again.json").exists()


@pytest.mark.parametrize("edit, where", [
    (lambda t: t[: len(t) // 2], "line"),
    (lambda t: t.replace('"version": 1', '"version": 99'), "version 99"),
    (lambda t: t.replace('"shape": [784, 256]', '"shape": [78400000, 256000]'), "ops[1].attrs.value"),
])
def test_hostile_net_file_is_one_clean_line(work, cli, edit, where):
    (work / "bad.json").write_text(edit((work / "demo.json").read_text()))
    (work / "bad.npz").write_bytes((work / "demo.npz").read_bytes())
    real = where == "line"   # one real subprocess, the rest in process
    rc, _, err = netjit("inspect", "bad.json", cwd=work, check=False) if real else \
        cli("inspect", "bad.json", check=False)
    clean_error(rc, err, "bad.json", where)
    assert len(err.strip().splitlines()) == 1


def test_inspect_one_net_of_a_saved_plan(work, cli):
    from netjit.compiler.frontend.saving import save_plan
    from netjit.compiler.frontend.steps import Plan, execution_step
    a, b = build_demo_net(), build_demo_net()
    plan = Plan("two")
    plan.AddStep(execution_step("both", [a, b]))
    save_plan(plan, work / "plan.json")
    _, text, _ = cli("inspect", f"plan.json#{b.name}", "--fetch", "logits")
    assert text.startswith(f"graph {b.name}") and "return %logits" in text   # loaded names are made unique
    rc, _, err = cli("inspect", "plan.json", check=False)
    clean_error(rc, err, "plan.json#NAME", a.name)


SMALL = """
import numpy as np
import netjit as nj


def net():
    n = nj.Net("small")
    x = n.Placeholder("x", np.float32, (None, 3))
    n.Relu(n.Mul([n.Add([x, n.Const(np.ones(3, np.float32))]), x]), "y")
    return n
"""


CHAIN = """
import numpy as np
import netjit as nj


def net():
    n = nj.Net("chain")
    x = n.Placeholder("x", np.float32, (None,))
    n.Tanh(n.Mul([n.Sigmoid(x), x]), "y")
    return n
"""


def test_compile_dumps_llvm_ir_for_a_native_segment(work):
    (work / "chain.py").write_text(CHAIN)
    rc, out, err = netjit("compile", "chain.py:net", "--backend", "numba", "--dump-dir", "dchain",
                          cwd=work, check=False)
    assert rc == 0, err
    (source,) = (work / "dchain" / "source").glob("*")
    text = source.read_text()
    assert source.suffix == ".ll" and "define void @" in text
    assert "; " in text and "= FusedElementwise(%x" in text                # the netjit IR as comments
    assert "native" in out


def test_compile_on_numba_dumps_generated_source_with_colour_and_progress(work):
    (work / "small.py").write_text(SMALL)
    rc, out, err = netjit("--color", "always", "compile", "small.py:net", "--backend", "numba",
                          "--dump-dir", "dnumba", cwd=work, check=False, plain=False)
    if rc:
        clean_error(rc, err, "numba")
        return
    sources = list((work / "dnumba" / "source").glob("*.py"))
    assert len(sources) == 1
    text = sources[0].read_text()
    assert "@njit" in text and "= FusedElementwise(%x" in text   # the IR line as a comment
    compile(text, str(sources[0]), "exec")
    assert "\x1b[" in out and "small/cpu:0/s0" in out
