"""Parallel and fast-math options: same results within documented bounds."""
import re

import numpy as np
import pytest

from netjit.backends.numba import NumbaBackend
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Add, Const, Div, Exp, Placeholder, ReduceMax, ReduceSum, Sigmoid, Sub, Tanh
from netjit.errors import InvalidArgumentError


def _graph():
    """softmax(tanh(x) + sigmoid(x)) along the last axis, and a row sum."""
    g = Graph("opts")
    x = g.add(Placeholder(np.float32, (None, None)), names=["x"])
    g.inputs.append(x)
    h = g.add(Add(), [(g.add(Tanh(), [(x, 0)]), 0), (g.add(Sigmoid(), [(x, 0)]), 0)])
    e = g.add(Exp(), [(g.add(Sub(), [(h, 0), (g.add(ReduceMax(axes=(-1,)), [(h, 0)]), 0)]), 0)])
    s = g.add(ReduceSum(axes=(-1,)), [(e, 0)])
    g.outputs = [(e, 0), (s, 0)]
    return g


X = np.random.default_rng(3).uniform(-6, 6, (64, 1500)).astype(np.float32)


@pytest.fixture(scope="module")
def strict():
    return NumbaBackend(fastmath=0, parallel=False).compile(_graph())([X])


def test_parallel_matches_serial(strict):
    par = NumbaBackend(fastmath=0, parallel_min_size=1).compile(_graph())([X])
    np.testing.assert_allclose(par[0], strict[0], rtol=1e-6)
    np.testing.assert_allclose(par[1], strict[1], rtol=1e-5)


@pytest.mark.parametrize("level", [1, 2])
def test_fastmath_within_documented_bounds(strict, level):
    fast = NumbaBackend(fastmath=level, parallel_min_size=1).compile(_graph())([X])
    # elementwise: 3 approximations of <= 5e-7 each, through exp: ~1e-5 relative
    np.testing.assert_allclose(fast[0], strict[0], rtol=2e-5, atol=1e-7)
    # reassociated float32 sums of 1500 terms
    np.testing.assert_allclose(fast[1], strict[1], rtol=5e-5)


def test_strict_level_matches_numpy(strict):
    h = np.tanh(X) + 1 / (1 + np.exp(-X))
    e = np.exp(h - h.max(-1, keepdims=True))
    np.testing.assert_allclose(strict[0], e, rtol=2e-6, atol=1e-7)


def test_outputs_of_later_calls_do_not_overwrite_earlier_ones():
    exe = NumbaBackend(parallel_min_size=1).compile(_graph())
    first = exe([X])[0]
    kept = first.copy()
    for _ in range(3):
        exe([X * 2])
    np.testing.assert_array_equal(first, kept)


def test_bad_fastmath_level():
    with pytest.raises(InvalidArgumentError, match="fastmath"):
        NumbaBackend(fastmath=5).compile(_graph())


def test_dropped_outputs_are_reused_by_the_next_large_call():
    exe = NumbaBackend(parallel_min_size=1).compile(_graph())
    first = exe([X])[0]
    address = first.ctypes.data
    del first
    again = exe([X])[0]
    assert again.ctypes.data == address          # the pool handed the buffer back
    held = exe([X])[0]
    assert held.ctypes.data != again.ctypes.data  # ``again`` is still referenced


@pytest.mark.parametrize("shape, min_size, has_parallel", [
    ((4,), 1 << 16, False),          # static and small: the size test could only pick serial
    ((4,), 4, True),                 # 4 + 4 elements reach a threshold of 4
    ((None,), 1 << 16, True),        # unknown size: decided per call
])
def test_parallel_variant_only_where_a_call_can_reach_the_threshold(shape, min_size, has_parallel):
    g = Graph("small")
    x = g.add(Placeholder(np.float32, shape), names=["x"])
    y = g.add(Placeholder(np.float32, shape), names=["y"])
    g.inputs += [x, y]
    g.outputs = [(g.add(Add(), [(x, 0), (y, 0)]), 0)]
    backend = NumbaBackend(parallel_min_size=min_size)
    src = backend.generate_source(g)
    assert ("_parallel" in src) == has_parallel and ("PARALLEL_MIN_SIZE" in src) == has_parallel
    v = np.arange(4, dtype=np.float32)
    np.testing.assert_array_equal(backend.compile(g)([v, v])[0], v + v)


@pytest.mark.parametrize("parallel_min_size", [1, 1 << 30])
def test_level_1_keeps_a_cancelled_inf_or_nan_beside_a_reduction(parallel_min_size):
    """Only the reductions reassociate: (x + y) - y with y = inf or NaN is NaN, not x, in the
    kernel that also sums rows; x / d stays finite for a denormal d, constant or column."""
    g = Graph("cancel")
    x, y, c = (g.add(Placeholder(np.float32, shape), names=[n])
               for n, shape in (("x", (None, None)), ("y", (None, None)), ("c", (None, 1))))
    g.inputs += [x, y, c]
    xy = g.add(Sub(), [(g.add(Add(), [(x, 0), (y, 0)]), 0), (y, 0)])
    tiny = g.add(Div(), [(x, 0), (g.add(Const(np.float32(1e-40))), 0)])
    col = g.add(Div(), [(x, 0), (c, 0)])
    g.outputs = [(xy, 0), (tiny, 0), (col, 0), (g.add(ReduceSum(axes=(-1,)), [(xy, 0)]), 0),
                 (g.add(ReduceSum(axes=(-1,)), [(g.add(Add(), [(tiny, 0), (col, 0)]), 0)]), 0)]
    backend = NumbaBackend(native=False, parallel_min_size=parallel_min_size)
    assert backend.generate_source(g, native=False).count("def kernel") == 2   # one kernel, serial and prange
    xv = np.full((4, 512), 1e-5, np.float32)
    yv = np.where(np.arange(4 * 512).reshape(4, 512) % 2, np.inf, np.nan).astype(np.float32)
    cv = np.full((4, 1), 1e-40, np.float32)
    out = backend.compile(g)([xv, yv, cv])
    assert np.isnan(out[0]).all() and np.isnan(out[3]).all()
    want = xv / np.float32(1e-40)                   # 1e35: 1 / 1e-40 alone is inf in float32
    assert np.isfinite(want).all()
    np.testing.assert_allclose(out[1], want, rtol=1e-6)
    np.testing.assert_allclose(out[2], want, rtol=1e-6)
    np.testing.assert_allclose(out[4], want.sum(-1, keepdims=True) * 2, rtol=1e-5)


def test_a_division_by_a_row_sum_multiplies_by_its_reciprocal():
    g = _graph()
    e = g.outputs[0][0]
    s = g.outputs[1][0]
    g.outputs = [(g.add(Div(), [(e, 0), (s, 0)]), 0)]
    src = NumbaBackend().generate_source(g, native=False)
    quotients = re.findall(r"= \((\w+) (\*|/) \((k\d+) / (\w+)\)\)", src)
    assert quotients and all(q[1] == "*" for q in quotients)      # e * (1 / s), hoisted by LLVM
    assert re.search(r"acc_add\(g0_b\d+, ", src) and "acc_add = radd" in src  # the row sum reassociates alone
    fast = NumbaBackend(parallel_min_size=1).compile(g)([X])[0]
    h = np.tanh(X) + 1 / (1 + np.exp(-X))
    e = np.exp(h - h.max(-1, keepdims=True))
    np.testing.assert_allclose(fast, e / e.sum(-1, keepdims=True), rtol=2e-5, atol=1e-9)


@pytest.mark.parametrize("axes", [(-1,), None])
def test_level_0_sums_in_order(axes):
    """fastmath=0 is IEEE: a float32 row sum adds in order, as a sequential loop does
    (reassociated, 1e8 + 1 - 1e8 loses the 1s that land beside 1e8)."""
    g = Graph("strict")
    x = g.add(Placeholder(np.float32, (None, None)), names=["x"])
    g.inputs.append(x)
    g.outputs = [(g.add(ReduceSum(axes=axes), [(g.add(Add(), [(x, 0), (x, 0)]), 0)]), 0)]
    xv = np.tile(np.array([1e8, 1, -1e8, 1, 3, 5, 7, 9], np.float32), (2, 64))
    rows = (xv + xv).reshape(2, -1) if axes else (xv + xv).reshape(1, -1)
    seq = np.zeros(len(rows), np.float32)
    for j in range(rows.shape[1]):
        seq = (seq + rows[:, j]).astype(np.float32)
    got = NumbaBackend(native=False, fastmath=0, parallel=False).compile(g)([xv])[0]
    np.testing.assert_array_equal(got.ravel(), seq)
