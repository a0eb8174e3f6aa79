"""exp(x - max(x)) cannot overflow: the numba backend uses the capped exp there, and only there."""
import numpy as np
import pytest
from numba import njit

from netjit.backends.numba import NumbaBackend
from netjit.backends.reference import ReferenceBackend
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Assign, Div, Exp, Mul, Placeholder, ReduceMax, ReduceSum, Sub, TensorType
from netjit.backends.numba.mathlib import fexp, fexp_capped


@njit
def _both(x, a, b):
    for i in range(x.shape[0]):
        a[i] = fexp(x[i])
        b[i] = fexp_capped(x[i])


def test_capped_exp_is_exp_bit_for_bit_up_to_its_cap():
    x = np.concatenate([np.linspace(-100, 88.37, 2_000_001),
                        [np.nan, -np.inf, -1e30, -87.69, -88.0, 0.0, -0.0]]).astype(np.float32)
    a, b = np.empty_like(x), np.empty_like(x)
    _both(x, a, b)
    np.testing.assert_array_equal(a.view(np.int32)[:-7], b.view(np.int32)[:-7])
    assert np.isnan(b[-7]) and (b[-6:-3] == 0).all() and b[-2] == 1 and b[-1] == 1


def _graph(shift_by_other=False, product=False):
    """softmax over the last axis of x (or of x * x); or exp(x - max(y)), which may overflow."""
    g = Graph("capped")
    x = g.add(Placeholder(np.float32, (None, None)), names=["x"])
    y = g.add(Placeholder(np.float32, (None, None)), names=["y"])
    g.inputs += [x, y]
    v = g.add(Mul(), [(x, 0), (x, 0)]) if product else x
    m = g.add(ReduceMax(axes=(-1,)), [(y if shift_by_other else v, 0)])
    e = g.add(Exp(), [(g.add(Sub(), [(v, 0), (m, 0)]), 0)])
    g.outputs = [(g.add(Div(), [(e, 0), (g.add(ReduceSum(axes=(-1,)), [(e, 0)]), 0)]), 0)]
    return g


@pytest.mark.parametrize("shift_by_other, product, capped", [(False, False, True), (True, False, False),
                                                             (False, True, False)])
def test_only_an_input_shifted_by_its_rows_max_gets_the_capped_exp(shift_by_other, product, capped):
    # a computed x is left out: contraction may fuse x = a * b into the subtraction,
    # whose unrounded a * b - max(x) can be far above 0 for large products
    src = NumbaBackend().generate_source(_graph(shift_by_other, product), native=False)
    assert ("fexp_capped(" in src) == capped
    assert ("fexp(" in src) != capped


def _two_kernels():
    """exp(x - max(x)), a host Assign of it, then exp(a * x - a): two kernels whose temporaries
    have the same names (g0_t1), and only the first is bounded."""
    g = Graph("two_kernels")
    x = g.add(Placeholder(np.float32, (1, 4)), names=["x"])
    g.inputs.append(x)
    e0 = g.add(Exp(), [(g.add(Sub(), [(x, 0), (g.add(ReduceMax(axes=(-1,)), [(x, 0)]), 0)]), 0)])
    a = g.add(Assign(var_name="w", var_type=TensorType(np.dtype(np.float32), (1, 4))), [(e0, 0)])
    e1 = g.add(Exp(), [(g.add(Sub(), [(g.add(Mul(), [(a, 0), (x, 0)]), 0), (a, 0)]), 0)])
    g.outputs = [(e1, 0)]
    return g


def test_a_later_kernel_does_not_inherit_an_earlier_kernels_bound():
    src = NumbaBackend().generate_source(_two_kernels(), native=False)
    first, *later = src.split("# wrapper")[0].split("def kernel")[1:]
    assert "fexp_capped(" in first and later and all("fexp_capped(" not in k and "fexp(" in k for k in later)
    x = np.array([[0.0, 10.0, 100.0, 1000.0]], np.float32)    # e0 = [0, 0, 0, 1]: exp(999) is inf
    got = NumbaBackend(native=False).compile(_two_kernels())([x])[0]
    with np.errstate(all="ignore"):
        want = ReferenceBackend().compile(_two_kernels())([x])[0]
    np.testing.assert_array_equal(got, want)


ROWS = np.array([[0.5, -3.0, 2.0, 1e30],
                 [np.nan, 1.0, 2.0, 3.0],
                 [np.inf, 1.0, -np.inf, 0.0],
                 [-np.inf] * 4,
                 [-1e30, 80.0, -200.0, 88.0],
                 [100.0, 100.0, -100.0, 0.0]], np.float32)


@pytest.mark.parametrize("product", [False, True])
@pytest.mark.parametrize("parallel_min_size", [1, 1 << 30])
def test_softmax_with_special_values_matches_the_reference(product, parallel_min_size):
    x = np.concatenate([ROWS, np.random.default_rng(1).uniform(-90, 90, (64, 4)).astype(np.float32)])
    with np.errstate(all="ignore"):
        want = ReferenceBackend().compile(_graph(product=product))([x, x])[0]
    got = NumbaBackend(parallel_min_size=parallel_min_size).compile(_graph(product=product))([x, x])[0]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    # contraction fuses x * x into the subtraction: its argument is then off by up
    # to half an ulp of x * x (2.4e-4 at 8100), and the result by that, relatively
    np.testing.assert_allclose(got, want, rtol=5e-4 if product else 2e-6, atol=1e-30)


def test_a_shift_by_another_max_still_overflows_to_inf():
    x = np.array([[0.0, 100.0]], np.float32)
    y = np.array([[0.0, 1.0]], np.float32)
    got = NumbaBackend().compile(_graph(shift_by_other=True))([x, y])[0]
    with np.errstate(all="ignore"):
        want = ReferenceBackend().compile(_graph(shift_by_other=True))([x, y])[0]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[0, 1])         # inf / inf, as in NumPy
