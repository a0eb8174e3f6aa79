"""Passes and order-only control edges ("if both run, the source runs first").

An order-only edge never makes its source needed (prune, dce), keeps its kind
when a rewrite moves it (cse), and still orders the nodes while both exist.
"""
from netjit.compiler.ir.parser import parse_graph
from netjit.passes import make_context, run_pass

BEFORE = """\
graph g(%x) {
  %x:f32[2] = Placeholder(shape=(2,))
  %v:f32[2] = Variable(var_name="v", initial=f32[2][1.0, 1.0])
  %a:f32[2] = Exp(%x)
  %b:f32[2] = Exp(%x)
  %set:f32[2] = Assign(%x, var_name="v", var_type=f32[2]) ^?%v ^?%a
  %n:f32[2] = Neg(%b) ^?%set
  return %set, %n
}"""


def _run(name, text=BEFORE):
    g = parse_graph(text)
    changed = run_pass(g, name, make_context(verify=True))
    return changed, g


def test_prune_drops_sources_reached_only_by_order_only_edges():
    changed, g = _run("prune")
    assert changed and [g.op(n).name for n in g.nodes()] == ["Placeholder", "Exp", "Assign", "Neg"]
    assert "^?%set" in str(g) and "^?%v" not in str(g)   # the Assign still runs before Neg


def test_dce_removes_a_pure_node_with_only_order_only_users():
    changed, g = _run("dce")
    assert changed and "%a:" not in str(g) and "%b:" in str(g)
    assert "^?%v" in str(g)                               # a stateful read is never dce's to drop


def test_cse_merges_like_nodes_and_keeps_the_kind_of_moved_control_edges():
    text = BEFORE.replace("^?%v ^?%a", "^?%v ^?%b").replace("Neg(%b) ^?%set", "Neg(%a) ^?%set")
    changed, g = _run("cse", text)
    assert changed and str(g).count("= Exp(%x)") == 1
    assert "^?%a" in str(g).splitlines()[4] and "^%" not in str(g)


def test_cse_does_not_merge_nodes_whose_control_edges_differ_in_kind():
    text = BEFORE.replace("%b:f32[2] = Exp(%x)", "%b:f32[2] = Exp(%x) ^%v").replace(
        "%a:f32[2] = Exp(%x)", "%a:f32[2] = Exp(%x) ^?%v")
    changed, g = _run("cse", text)
    assert not changed
