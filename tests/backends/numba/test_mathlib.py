"""The documented error bounds of the vectorised float32 functions hold."""
import numpy as np
import pytest
from numba import njit

from netjit.backends.numba.mathlib import fexp, fsigmoid, ftanh


@njit
def _apply(x, out, k):
    for i in range(x.shape[0]):
        out[i] = fexp(x[i]) if k == 0 else (ftanh(x[i]) if k == 1 else fsigmoid(x[i]))


GRID = np.concatenate([np.linspace(-87.3, 88.3, 400_001), np.linspace(-3, 3, 100_001),
                       np.geomspace(1e-30, 1, 1000), -np.geomspace(1e-30, 1, 1000)]).astype(np.float32)


@pytest.mark.parametrize("k, ref, bound", [(0, np.exp, 4e-7), (1, np.tanh, 4e-7),
                                           (2, lambda x: 1 / (1 + np.exp(-x)), 5e-7)])
def test_relative_error_bound(k, ref, bound):
    out = np.empty_like(GRID)
    _apply(GRID, out, k)
    exact = ref(GRID.astype(np.float64))
    normal = np.abs(exact) > np.finfo(np.float32).tiny
    rel = np.abs(out[normal] - exact[normal]) / np.abs(exact[normal])
    assert rel.max() <= bound


def test_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 100.0, -100.0, 0.0], np.float32)
    out = np.empty_like(x)
    _apply(x, out, 0)
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == 0 and out[3] == np.inf and out[4] == 0
    _apply(x, out, 1)
    assert np.isnan(out[0]) and abs(out[1] - 1) < 4e-7 and abs(out[2] + 1) < 4e-7 and out[5] == 0
    _apply(x, out, 2)
    assert np.isnan(out[0]) and out[1] == 1 and out[2] == 0


def test_exp_overflow_and_underflow_thresholds():
    x = np.array([88.37, 88.38, 88.9, -87.3, -87.6, -87.69, -88.5, -1e30, 1e30], np.float32)
    out = np.empty_like(x)
    _apply(x, out, 0)
    tiny = np.finfo(np.float32).tiny
    assert np.isfinite(out[0]) and abs(out[0] / np.exp(np.float64(x[0])) - 1) < 4e-7
    assert out[1] == np.inf and out[2] == np.inf and out[8] == np.inf
    assert out[3] >= tiny and 0 < out[4] < tiny
    assert out[5] == 0 and out[6] == 0 and out[7] == 0


def test_helpers_compile_without_a_writable_cache(monkeypatch):
    """numba refuses cache=True where it can write no cache; the helper then compiles per process."""
    import numba
    from netjit.backends.numba import mathlib

    def strict_njit(*, cache=False, **options):
        if cache:
            raise RuntimeError("cannot cache function 'f': no locator available for file '<ro>'")
        return numba.njit(**options)

    monkeypatch.setattr(mathlib, "njit", strict_njit)

    def twice(x):
        return x * 2.0

    helper = mathlib.cached_njit(error_model="numpy")(twice)
    assert helper(np.float32(1.5)) == 3.0
