"""Random graphs through the numba backend agree with the reference backend.

Each example compiles a kernel (about a second), so the CI profile runs a few;
``NETJIT_HYPOTHESIS_PROFILE=nightly`` runs many more.
"""
import os

import numpy as np
from hypothesis import given, settings
from strategies import random_graph

from netjit.compiler.pipeline import optimize
from netjit.config import SessionConfig

from numba_helpers import assert_same_results

_EXAMPLES = 300 if os.environ.get("NETJIT_HYPOTHESIS_PROFILE") == "nightly" else 12


@settings(max_examples=_EXAMPLES, deadline=None)
@given(random_graph(max_nodes=8))
def test_random_graph_numba_matches_reference(numba_backend, case):
    graph, feeds = case
    optimized = optimize(graph.copy(), SessionConfig())      # the default opt level
    exe = numba_backend.compile(optimized)
    assert_same_results(optimized, feeds, exe, rtol=1e-4, atol=1e-5)
