"""Properties over random graphs: every opt level computes what the unoptimised
graph computes (verification on after every pass), and the pipeline is idempotent.

Exact comparison is justified: on the reference backend an optimised graph
runs the very NumPy references the unoptimised one runs (folding evaluates
them, fusion walks them, the algebraic rules are exact for the dtype), so
results agree bit for bit except for the sign of a zero (``x+0``), which
``==`` ignores; NaN compares equal to NaN. Examples: the ``ci`` profile
(tests/conftest.py); run ``NETJIT_HYPOTHESIS_PROFILE=nightly`` for 1000.
"""
import warnings

import networkx as nx
from hypothesis import given

from netjit.backends.reference import evaluate
from netjit.compiler.ops import OpKind
from netjit.errors import PassError
from netjit.passes import Phase, make_context, outputs_differ, run_pass, run_phase
from pass_strategies import baited_graph


def _optimised(graph, **options):
    g = graph.copy()
    ctx = make_context(verify=True, **options)
    try:
        run_phase(g, Phase.PRE_PLACEMENT, ctx)
    except PassError as exc:  # show the graph hypothesis found
        raise AssertionError(f"{exc}\n{options} on:\n{graph}") from exc
    return g, ctx


@given(baited_graph())
def test_every_opt_level_computes_the_unoptimised_result(case):
    graph, feeds = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log/sqrt of negatives: NaN both ways
        expected = evaluate(graph, feeds)
        for level in range(4):
            g, _ = _optimised(graph, opt_level=level)
            why = outputs_differ(expected, evaluate(g, feeds), rtol=0, atol=0)
            assert why is None, f"opt_level={level}: {why}\nbefore:\n{graph}\nafter:\n{g}"


@given(baited_graph())
def test_pipeline_and_each_pass_are_idempotent(case):
    graph, _ = case
    g, _ = _optimised(graph, opt_level=3)
    text = str(g)
    assert not run_phase(g, Phase.PRE_PLACEMENT, make_context(verify=True, opt_level=3))
    assert str(g) == text
    for name in ("fold_constants", "simplify", "cse", "dce", "fuse_elementwise"):
        assert not run_pass(g, name, make_context(verify=True)), name


@given(baited_graph())
def test_passes_never_grow_the_graph_and_fusion_leaves_no_adjacent_pair(case):
    graph, _ = case
    g, ctx = _optimised(graph, opt_level=2)
    assert len(g) <= len(graph)
    for a in ctx.history:
        if a.name != "fuse_elementwise" and not a.skipped:
            assert a.nodes_after <= a.nodes_before + 1, a.as_dict()  # a rewrite may add one node
    for u, w, d in g.nx.edges(data=True):  # maximal: an unfused elementwise edge must close a cycle
        if not d["control"] and _elementwise(g, u) and _elementwise(g, w) \
                and g.device(u) == g.device(w):
            others = [s for s in g.nx.successors(u) if s != w]
            assert any(nx.has_path(g.nx, s, w) for s in others), f"{u}->{w} unfused:\n{g}"


def _elementwise(g, n):
    return g.op(n).kind is OpKind.ELEMENTWISE and all(
        t.dtype != object for t in g.types(n))


@given(baited_graph())
def test_optimised_graphs_round_trip_through_text_and_json(case):
    from netjit.compiler.ir.parser import constants_of, parse_graph
    from netjit.compiler.ir.serialize import graph_from_json, graph_to_json
    graph, feeds = case
    g, _ = _optimised(graph, opt_level=2)
    assert parse_graph(str(g), constants_of(g)) == g
    assert graph_from_json(graph_to_json(g)) == g
