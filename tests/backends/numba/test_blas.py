"""Kernels' GEMM through NumPy's bundled CBLAS agrees with NumPy on every layout."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from netjit.backends.numba import NumbaBackend, blas
from netjit.compiler.ir import Graph
from netjit.compiler.ops import MatMul, Placeholder

pytestmark = pytest.mark.skipif(not blas.AVAILABLE, reason="NumPy bundles no CBLAS here; kernels use np.dot")

dims = st.integers(0, 9)


@settings(max_examples=60, deadline=None)
@given(m=dims, k=dims, n=dims, trans_a=st.booleans(), trans_b=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_gemm_matches_numpy(m, k, n, trans_a, trans_b, dtype):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    gemm = blas.sgemm if dtype == np.float32 else blas.dgemm
    out = gemm(np.ascontiguousarray(a.T) if trans_a else a, trans_a,
               np.ascontiguousarray(b.T) if trans_b else b, trans_b)
    assert out.dtype == dtype and out.shape == (m, n) and out.flags.c_contiguous
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-5)


def test_strided_operands_are_read_correctly():
    a = np.arange(48, dtype=np.float32).reshape(8, 6)[::2, 1:]
    b = np.arange(30, dtype=np.float32).reshape(5, 6)[:, ::2]
    np.testing.assert_allclose(blas.sgemm(a, False, b, False), a @ b)


def test_inner_dimension_mismatch_raises():
    with pytest.raises(ValueError, match="inner dimensions differ"):
        blas.sgemm(np.ones((2, 3), np.float32), False, np.ones((2, 3), np.float32), False)


def test_matmul_kernel_calls_numpy_blas():
    g = Graph("mm")
    x = g.add(Placeholder(np.float32, (None, 5)), names=["x"])
    w = g.add(Placeholder(np.float32, (4, 5)), names=["w"])
    g.inputs += [x, w]
    g.outputs = [(g.add(MatMul(trans_b=True), [(x, 0), (w, 0)], names=["y"]), 0)]
    exe = NumbaBackend().compile(g)
    assert "sgemm(v0, False, v1, True)" in exe.module_source    # the transposed weight is not copied
    xv = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    wv = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(exe([xv, wv])[0], xv @ wv.T, rtol=1e-5)


def test_a_promoted_operand_keeps_its_own_dtype_elsewhere():
    """float32 @ float64 promotes a copy: the float32 operand, also an output, stays float32
    (the lowering had rebound its name to the float64 copy; found by the random graphs)."""
    from netjit.backends.reference import evaluate
    from netjit.compiler.ops import Add, Const, ConstValue
    g = Graph("promote")
    x = g.add(Placeholder(np.float32, (None, 2)), names=["x"])
    g.inputs.append(x)
    h = g.add(Add(), [(x, 0), (g.add(Const(ConstValue(np.float32(1.25)))), 0)], names=["h"])
    w = g.add(Const(ConstValue(np.array([[1.5, 0.25], [0.5, 2.0]]))), names=["w"])
    g.outputs = [(h, 0), (g.add(MatMul(), [(h, 0), (w, 0)], names=["y"]), 0)]
    xv = np.array([[0.5, -1.0]], np.float32)
    got, want = NumbaBackend().compile(g)([xv]), evaluate(g, [xv])
    for a, b in zip(got, want):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("shapes", [((4,), (2, 4, 5)), ((3, 2, 4), (4,)), ((4,), (3, 2, 4, 5))])
def test_a_vector_times_a_batch_drops_the_vectors_axis(shapes):
    """NumPy: a rank-1 operand's axis is dropped from the product; numba kept a size-1 axis."""
    import netjit as nj
    net = nj.Net("vec_batch")
    a = net.Placeholder("a", np.float32, shapes[0])
    b = net.Placeholder("b", np.float32, shapes[1])
    y = net.MatMul([a, b], "y")
    expect_shape = np.matmul(np.ones(shapes[0]), np.ones(shapes[1])).shape
    net.Add([y, net.Const(np.ones(expect_shape, np.float32))], "z")
    rng = np.random.default_rng(1)
    av, bv = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    y_got, z_got = nj.compile(net, ["y", "z"], ["a", "b"], backend="numba", tiered=False)(av, bv)
    np.testing.assert_allclose(y_got, np.matmul(av, bv), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(z_got, np.matmul(av, bv) + 1, rtol=1e-5, atol=1e-5)
