"""ONNX's node conformance suite, for every case whose ops netjit supports."""
from __future__ import annotations

import pytest

from exclusions import EXCLUDED
from node_cases import node_cases, run_case, supported

CASES = [c for c in node_cases() if supported(c)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_node_case(case):
    if case.name in EXCLUDED:
        pytest.skip(EXCLUDED[case.name])
    run_case(case)


def test_the_suite_covers_cases():
    """Guards against a collection that silently finds nothing."""
    assert len(node_cases()) > 1000
    assert len(CASES) >= 20
