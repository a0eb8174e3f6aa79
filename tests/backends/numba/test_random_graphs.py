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


@settings(max_examples=max(6, _EXAMPLES // 2), deadline=None)
@given(random_graph(max_nodes=8))
def test_random_graph_parallel_variants_match_reference(case):
    """Every kernel in its prange variant (parallel_min_size=1): row groups with a
    first pass run it pipelined into the previous row's second (emit_loops)."""
    from netjit.backends.numba import NumbaBackend
    graph, feeds = case
    optimized = optimize(graph.copy(), SessionConfig())
    exe = NumbaBackend(parallel_min_size=1).compile(optimized)
    assert_same_results(optimized, feeds, exe, rtol=1e-4, atol=1e-5)


def test_pipelined_rows_cover_blocks_of_one_row_and_uneven_blocks():
    """Softmax plus layer norm in their prange variants over row counts around the
    number of row blocks (64): blocks of one row, uneven blocks."""
    import netjit as nj
    from netjit.backends import register_backend
    from netjit.backends.numba import NumbaBackend
    register_backend("numba-parallel-always", lambda: NumbaBackend(parallel_min_size=1))
    rng = np.random.default_rng(7)
    for rows in (1, 2, 63, 64, 65, 130):
        net = nj.Net("rows")
        x = net.Placeholder("x", np.float32, (None, 37))
        d = net.Sub([x, net.ReduceMean(x, axes=(-1,))])
        var = net.ReduceMean(net.Mul([d, d]), axes=(-1,))
        net.Add([net.Softmax(x), net.Div([d, net.Sqrt(net.Add([var, net.Const(np.float32(1e-5))]))])], "y")
        xv = rng.standard_normal((rows, 37)).astype(np.float32)
        expected = nj.compile(net, "y", ["x"], backend="reference")(xv)
        got = nj.compile(net, "y", ["x"], backend="numba-parallel-always", tiered=False)(xv)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
