"""Golden before/after IR text for every built-in pass, including cases it must not rewrite.

Regenerate the expected texts with ``NETJIT_UPDATE_GOLDEN=1 python -m pytest
tests/passes/test_pass_golden.py`` and review the diff.
"""
import os
from pathlib import Path

import numpy as np
import pytest

from golden_cases import CASES
from netjit.backends.reference import evaluate
from netjit.compiler.ir.parser import parse_graph
from netjit.passes import list_passes, make_context, outputs_differ, run_pass

GOLDEN = Path(__file__).parent / "golden"
BUILTINS = {"prune", "dce", "fold_constants", "cse", "simplify", "fuse_elementwise"}


def _feeds(graph, rng):
    shapes = [tuple(2 if d is None else d for d in graph.type((n, 0)).shape) for n in graph.inputs]
    return [rng.uniform(0.1, 2, s).astype(np.float32) for s in shapes]  # Log stays finite


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case):
    name, options, before = CASES[case]
    graph = parse_graph(before)
    feeds = _feeds(graph, np.random.default_rng(0))
    expected = evaluate(graph, feeds)
    changed = run_pass(graph, name, make_context(verify=True, **options))
    path = GOLDEN / (case.replace("/", "__") + ".txt")
    if os.environ.get("NETJIT_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(str(graph) + "\n")
    if "/not-" in case:
        assert not changed and str(graph) == str(parse_graph(before))
    else:
        assert changed
    assert str(graph) + "\n" == path.read_text()
    assert outputs_differ(expected, evaluate(graph, feeds), rtol=0, atol=0) is None


def test_every_builtin_pass_has_golden_cases_both_ways():
    builtin = {r.name for r in list_passes() if r.origin == "built-in"}
    assert BUILTINS <= builtin
    rewrites = {CASES[c][0] for c in CASES if "/not-" not in c}
    assert rewrites >= BUILTINS
    negatives = {CASES[c][0] for c in CASES if "/not-" in c}
    assert negatives >= BUILTINS - {"prune", "dce"}
