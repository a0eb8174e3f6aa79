"""Products by constant weights: packed at compile time, multiplied by the native
packed kernel with its bias and ReLU epilogue; same results as the reference backend."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from netjit.backends.native import gemm
from netjit.backends.numba import packed_gemm
from netjit.compiler.ops import PackedMatMul
from netjit.passes.prepack_weights import MIN_WEIGHT_ELEMENTS
from numba_helpers import PipelineNumba, numba_segment
from netjit.backends.reference import evaluate
from netjit.compiler.ir import Graph
from netjit.compiler.ops import (FC, Add, Const, ConstValue, FusedElementwise, MatMul, Placeholder, Relu,
                                 Softmax)


@pytest.fixture(scope="module", autouse=True)
def _kernel():
    gemm.register(os.environ["NETJIT_CACHE_DIR"])


def _reference_product(a, w, bias=None, relu=False):
    out = a.astype(np.float64) @ w.astype(np.float64)
    if bias is not None:
        out = out + bias
    return np.maximum(out, 0) if relu else out


def _tolerance(k):
    return 1e-5 * max(1.0, np.sqrt(k)) * 10


# -- the kernel alone -----------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(m=st.integers(0, 20), k=st.integers(0, 40), n=st.integers(1, 40), relu=st.booleans(),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_kernel_matches_numpy_on_every_edge(m, k, n, relu, bias, seed):
    """Row counts off the 6-row tile, columns off the 16-column panel, K off the unroll."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    packed = gemm.pack(w)
    out = (packed_gemm.psgemm_bias(a, packed, n, b, relu, True) if bias
           else packed_gemm.psgemm(a, packed, n, relu, True))
    assert out.shape == (m, n) and out.dtype == np.float32
    np.testing.assert_allclose(out, _reference_product(a, w, b if bias else None, relu),
                               rtol=1e-5, atol=_tolerance(k))


@pytest.mark.parametrize("m,k,n", [(64, 784, 1024), (13, 300, 70), (1, 1024, 300)])
def test_large_products_split_over_panels_agree(m, k, n):
    assert m * k * n >= packed_gemm.PARALLEL_MIN_MACS
    rng = np.random.default_rng(m + k + n)
    a = rng.standard_normal((m, k)).astype(np.float32)
    w = (rng.standard_normal((k, n)) * 0.05).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    out = packed_gemm.psgemm_bias(a, gemm.pack(w), n, b, True, True)
    np.testing.assert_allclose(out, _reference_product(a, w, b, True), rtol=1e-5, atol=_tolerance(k))


def test_a_strided_input_is_read_correctly():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((20, 90)).astype(np.float32)[::2, 5:85]
    w = rng.standard_normal((80, 40)).astype(np.float32)
    np.testing.assert_allclose(packed_gemm.psgemm(a, gemm.pack(w), 40, False, True), _reference_product(a, w),
                               rtol=1e-5, atol=_tolerance(80))


@pytest.mark.parametrize("prepack", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_activations_of_another_dtype_are_converted_not_misread(prepack, dtype):
    """A backend-level caller may pass float64 or int activations to a float32 net;
    the packed kernel and BLAS read float32 memory, so they used to return NaN."""
    g = _mlp([96, 128, 64])
    x = (np.random.default_rng(5).standard_normal((8, 96)) * 4).astype(dtype)
    out = PipelineNumba(prepack=prepack).compile(g)([x])[0]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, evaluate(g, [x.astype(np.float32)])[0], rtol=1e-4, atol=1e-5)


def test_transposed_packing_is_the_transpose():
    w = np.arange(35 * 20, dtype=np.float32).reshape(35, 20)
    np.testing.assert_array_equal(gemm.pack(w.T.copy(), trans=False), gemm.pack(w, trans=True))
    packed = gemm.pack(w)
    nr = gemm.panel_width()
    assert packed.shape == (-(-20 // nr), 35, nr)
    assert np.all(packed[-1, :, 20 % nr or nr:] == 0)          # padding past N is zero


def test_nan_and_relu_follow_numpy():
    a = np.ones((3, 4), np.float32)
    a[1, 2] = np.nan
    w = np.full((4, 5), -1.0, np.float32)
    out = packed_gemm.psgemm(a, gemm.pack(w), 5, True, True)
    np.testing.assert_array_equal(out, np.maximum(a @ w, 0))      # NaN rows stay NaN, the rest 0


def test_inner_dimension_and_bias_mismatches_raise():
    packed = gemm.pack(np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match="inner dimensions differ"):
        packed_gemm.psgemm(np.ones((2, 3), np.float32), packed, 5, False, True)
    with pytest.raises(ValueError, match="bias"):
        packed_gemm.psgemm_bias(np.ones((2, 4), np.float32), packed, 5, np.ones(4, np.float32), False, True)


# -- the rewrite ------------------------------------------------------------------------
def _mlp(sizes, relu_last=False, fused=True, use_fc=False, bias_2d=False, seed=0, rank=2):
    """x -> [x @ W + b -> ReLU]* as a graph of MatMul (or FC) by constants; x of
    ``rank`` (leading dims dynamic)."""
    rng = np.random.default_rng(seed)
    g = Graph("mlp")
    x = g.add(Placeholder(np.float32, (None,) * (rank - 1) + (sizes[0],)), names=["x"])
    g.inputs.append(x)
    h = (x, 0)
    for i, (k, n) in enumerate(zip(sizes, sizes[1:])):
        w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
        b = rng.standard_normal((1, n) if bias_2d else n).astype(np.float32)
        bn = g.add(Const(ConstValue(b)), names=[f"b{i}"])
        relu = i < len(sizes) - 2 or relu_last
        if use_fc:
            wn = g.add(Const(ConstValue(np.ascontiguousarray(w.T))), names=[f"w{i}"])
            h = (g.add(FC(), [h, (wn, 0), (bn, 0)]), 0)
            if relu:
                h = (g.add(Relu(), [h]), 0)
            continue
        wn = g.add(Const(ConstValue(w)), names=[f"w{i}"])
        mm = (g.add(MatMul(), [h, (wn, 0)]), 0)
        if fused and relu:
            op = FusedElementwise(program=((Add(), (0, 1)), (Relu(), (2,))), n_inputs=2, outputs=(3,))
            h = (g.add(op, [mm, (bn, 0)]), 0)
        else:
            h = (g.add(Add(), [mm, (bn, 0)]), 0)
            if relu:
                h = (g.add(Relu(), [h]), 0)
    g.outputs = [(g.add(Softmax(), [h], names=["y"]), 0)]
    return g


def _check(g, x, **options):
    exe = PipelineNumba(**options).compile(g)
    got = exe([x])
    want = evaluate(g, [x])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    return exe


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("use_fc", [False, True])
def test_an_mlp_runs_as_packed_layers_with_fused_epilogues(fused, use_fc):
    g = _mlp([96, 128, 80, 64], fused=fused, use_fc=use_fc)
    x = np.random.default_rng(1).standard_normal((17, 96)).astype(np.float32)
    src = _check(g, x).module_source
    assert src.count("psgemm_bias(") == 3 * 2        # three layers, serial and parallel kernel variants
    assert ", True, True)" in src and ", False, True)" in src    # ReLU on the hidden layers only
    assert "sgemm(" not in src.replace("psgemm", "")


def test_a_bias_dtype_other_than_float32_is_converted():
    rng = np.random.default_rng(9)
    a = rng.standard_normal((5, 30)).astype(np.float32)
    w = rng.standard_normal((30, 20)).astype(np.float32)
    for dtype in (np.float64, np.int32):
        b = np.arange(20).astype(dtype)
        out = packed_gemm.psgemm_bias(a, gemm.pack(w), 20, b, False, True)
        np.testing.assert_allclose(out, _reference_product(a, w, b.astype(np.float32)), rtol=1e-5, atol=1e-4)


def _relu_then_bias(fused_add, fused_relu):
    """relu(x @ W) + b (or a fused Add, or a fused Add+Relu of it): the ReLU comes first."""
    g = Graph("relu_then_bias")
    x = g.add(Placeholder(np.float32, (None, 96)), names=["x"])
    g.inputs.append(x)
    rng = np.random.default_rng(10)
    w = g.add(Const(ConstValue(rng.standard_normal((96, 64)).astype(np.float32))), names=["w"])
    b = g.add(Const(ConstValue((rng.standard_normal(64) - 3).astype(np.float32))), names=["b"])
    h = (g.add(Relu(), [(g.add(MatMul(), [(x, 0), (w, 0)]), 0)]), 0)
    if fused_add:
        program = ((Add(), (0, 1)), (Relu(), (2,))) if fused_relu else ((Add(), (0, 1)),)
        op = FusedElementwise(program=program, n_inputs=2, outputs=(len(program) + 1,))
        y = g.add(op, [h, (b, 0)], names=["y"])
    else:
        y = g.add(Add(), [h, (b, 0)], names=["y"])
    g.outputs = [(y, 0)]
    return g


@pytest.mark.parametrize("fused_add,fused_relu", [(False, False), (True, False), (True, True)])
def test_a_bias_after_the_relu_is_not_folded_before_it(fused_add, fused_relu):
    g = _relu_then_bias(fused_add, fused_relu)
    src = _check(g, np.random.default_rng(11).standard_normal((9, 96)).astype(np.float32)).module_source
    assert "psgemm(" in src and "psgemm_bias(" not in src        # the ReLU folds, the add stays


def test_a_weight_used_plain_and_transposed_is_packed_twice():
    """Tied weights: (x @ W) @ W.T."""
    g = Graph("tied")
    x = g.add(Placeholder(np.float32, (None, 96)), names=["x"])
    g.inputs.append(x)
    w = g.add(Const(ConstValue((np.random.default_rng(12).standard_normal((96, 64)) / 8).astype(np.float32))),
              names=["w"])
    h = g.add(MatMul(), [(x, 0), (w, 0)])
    g.outputs = [(g.add(MatMul(trans_b=True), [(h, 0), (w, 0)], names=["y"]), 0)]
    src = _check(g, np.random.default_rng(13).standard_normal((5, 96)).astype(np.float32)).module_source
    assert src.count("psgemm(") == 2


def test_parallel_off_keeps_products_on_the_calling_thread():
    g = _mlp([96, 128, 80, 64])
    src = _check(g, np.ones((4, 96), np.float32), parallel=False).module_source
    assert ", False)" in src and ", True, True)" not in src and ", False, True)" not in src


FORK_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from numba_helpers import fork_and_report
    from test_prepack import _mlp
    from numba_helpers import PipelineNumba as NumbaBackend
    from netjit.backends.reference import evaluate
    from netjit.compiler.ir import Graph
    from netjit.compiler.ops import Placeholder, Softmax
    mlp = _mlp([784, 256, 64])                          # 8 x 784 x 256: a product split over threads
    rows = Graph("rows")                                # a prange kernel variant (big input)
    x = rows.add(Placeholder(np.float32, (None, 1024)), names=["x"])
    rows.inputs.append(x)
    rows.outputs = [(rows.add(Softmax(), [(x, 0)]), 0)]
    exes = [NumbaBackend().compile(g) for g in (mlp, rows)]
    feeds = [np.ones((8, 784), np.float32), np.ones((256, 1024), np.float32)]
    want = [evaluate(g, [f])[0] for g, f in zip((mlp, rows), feeds)]
    def run(q=None):
        ok = all(np.allclose(e([f])[0], w, rtol=1e-4, atol=1e-5) for e, f, w in zip(exes, feeds, want))
        if q is not None:
            q.put(ok)
        return ok
    assert run()                                        # the parent starts numba's threads
    fork_and_report(run, 120)
""")


def test_a_forked_child_runs_serially_instead_of_dying():
    """numba's OpenMP layer terminates a child forked after a parallel region at its
    first one; netjit's kernels run serially in such a child."""
    env = dict(os.environ)
    res = subprocess.run([sys.executable, "-c", FORK_SCRIPT, os.path.dirname(__file__)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "child 0 True", res.stdout + res.stderr


def test_small_weights_stay_on_blas():
    g = _mlp([8, 16, 4])
    assert 8 * 16 < MIN_WEIGHT_ELEMENTS
    src = _check(g, np.ones((3, 8), np.float32)).module_source
    assert "psgemm" not in src.split("import")[-1]


def test_prepack_off_uses_blas(monkeypatch):
    g = _mlp([96, 128, 10])
    x = np.ones((5, 96), np.float32)
    assert "psgemm_bias(" not in _check(g, x, prepack=False).module_source
    monkeypatch.setenv("NETJIT_PREPACK", "0")
    assert "psgemm_bias(" not in _check(g, x).module_source


def test_a_bias_that_broadcasts_otherwise_is_not_folded():
    """A (1, n) bias makes Add's result 2-D either way, but it is not the kernel's
    vector: the product is packed, the add stays a loop."""
    g = _mlp([96, 128, 10], bias_2d=True, fused=False)
    src = _check(g, np.ones((4, 96), np.float32)).module_source
    assert "psgemm(" in src and "psgemm_bias(" not in src


def test_a_product_with_other_users_keeps_its_own_output():
    g = Graph("shared")
    x = g.add(Placeholder(np.float32, (None, 96)), names=["x"])
    g.inputs.append(x)
    rng = np.random.default_rng(2)
    w = g.add(Const(ConstValue(rng.standard_normal((96, 64)).astype(np.float32))), names=["w"])
    b = g.add(Const(ConstValue(rng.standard_normal(64).astype(np.float32))), names=["b"])
    mm = g.add(MatMul(), [(x, 0), (w, 0)], names=["mm"])
    y = g.add(Relu(), [(g.add(Add(), [(mm, 0), (b, 0)]), 0)], names=["y"])
    g.outputs = [(mm, 0), (y, 0)]
    src = _check(g, rng.standard_normal((7, 96)).astype(np.float32)).module_source
    assert "psgemm(" in src and "psgemm_bias(" not in src


def test_one_weight_feeding_two_products_is_packed_once():
    g = Graph("twice")
    x = g.add(Placeholder(np.float32, (None, 96)), names=["x"])
    z = g.add(Placeholder(np.float32, (None, 96)), names=["z"])
    g.inputs += [x, z]
    w = g.add(Const(ConstValue(np.random.default_rng(4).standard_normal((96, 64)).astype(np.float32))),
              names=["w"])
    g.outputs = [(g.add(MatMul(), [(v, 0), (w, 0)]), 0) for v in (x, z)]
    graph = numba_segment(g)
    consts = [n for n in graph.nodes() if graph.op(n).name == "Const"]
    assert len(consts) == 1 and graph.type((consts[0], 0)).rank == 3
    assert sum(isinstance(graph.op(n), PackedMatMul) for n in graph.nodes()) == 2
    exe = PipelineNumba().compile(g)
    xv, zv = (np.random.default_rng(s).standard_normal((3, 96)).astype(np.float32) for s in (5, 6))
    for got, want in zip(exe([xv, zv]), evaluate(g, [xv, zv])):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_the_packed_op_means_the_product():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((5, 30)).astype(np.float32)
    w = rng.standard_normal((30, 21)).astype(np.float32)
    b = rng.standard_normal(21).astype(np.float32)
    (out,) = PackedMatMul(n=21, relu=True).reference(a, gemm.pack(w), b)
    np.testing.assert_allclose(out, _reference_product(a, w, b, True), rtol=1e-5, atol=1e-4)


def test_a_kernel_that_cannot_be_built_leaves_products_to_blas(monkeypatch):
    def broken(cache_dir):
        raise RuntimeError("no LLVM here")
    monkeypatch.setattr(gemm, "register", broken)
    with pytest.warns(RuntimeWarning, match="packed GEMM kernel could not be built"):
        exe = _check(_mlp([96, 128, 10]), np.ones((3, 96), np.float32))
    assert "psgemm_bias(" not in exe.module_source


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(64, 140), min_size=2, max_size=4), batch=st.integers(1, 40),
       fused=st.booleans(), use_fc=st.booleans(), relu_last=st.booleans(), seed=st.integers(0, 1000),
       tokens=st.one_of(st.none(), st.integers(0, 5)))
def test_random_mlps_agree_with_the_reference_backend(sizes, batch, fused, use_fc, relu_last, seed, tokens):
    """``tokens``: None for (batch, features) inputs, else (batch, tokens, features)."""
    rank = 2 if tokens is None else 3
    g = _mlp(sizes, relu_last=relu_last, fused=fused, use_fc=use_fc and rank == 2, seed=seed, rank=rank)
    shape = (batch, sizes[0]) if tokens is None else (batch, tokens, sizes[0])
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    _check(g, x)


def test_leading_dims_are_rows_of_one_product():
    """(batch, tokens, features) @ W: one packed product over batch * tokens rows."""
    g = _mlp([96, 128, 80], rank=3)
    src = _check(g, np.random.default_rng(8).standard_normal((3, 7, 96)).astype(np.float32)).module_source
    assert "psgemm_bias(_a2," in src and "for _k in range" not in src


# -- across processes ----------------------------------------------------------------------
SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from test_prepack import _mlp
    from netjit.backends.native import gemm
    from netjit.backends.numba import cache_stats
    from numba_helpers import PipelineNumba
    exe = PipelineNumba().compile(_mlp([96, 128, 10]))
    out = exe([np.ones((3, 96), np.float32)])[0]
    print(json.dumps({"stats": cache_stats(), "gemm": gemm.STATS, "packed": "psgemm_bias(" in exe.module_source,
                      "out": out.tolist()}))
""")


def _run(cache_dir):
    env = dict(os.environ, NETJIT_CACHE_DIR=str(cache_dir))
    res = subprocess.run([sys.executable, "-c", SCRIPT, os.path.dirname(__file__)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_the_kernel_and_the_segment_from_the_cache(tmp_path):
    first = _run(tmp_path)
    assert first["packed"] and first["gemm"] == {"compiles": 1, "disk_loads": 0}
    assert first["stats"]["numba_compiles"] == 1
    second = _run(tmp_path)
    assert second["gemm"] == {"compiles": 0, "disk_loads": 1}
    assert second["stats"]["disk_hits"] == 1 and second["stats"]["numba_compiles"] == 0
    want = evaluate(_mlp([96, 128, 10]), [np.ones((3, 96), np.float32)])[0]
    np.testing.assert_allclose(second["out"], want, rtol=1e-4, atol=1e-5)


def test_a_damaged_kernel_entry_is_rebuilt(tmp_path):
    _run(tmp_path)
    key = gemm._key()
    entry = next(p for p in tmp_path.glob(f"*/{key}"))
    for name in ("segment.o", "segment.so"):
        if (entry / name).exists():
            (entry / name).write_bytes(b"\0" * 64)
    again = _run(tmp_path)
    assert again["gemm"] == {"compiles": 1, "disk_loads": 0}
    want = evaluate(_mlp([96, 128, 10]), [np.ones((3, 96), np.float32)])[0]
    np.testing.assert_allclose(again["out"], want, rtol=1e-4, atol=1e-5)
    assert (entry / "manifest.json").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_the_four_lane_kernel_of_machines_without_avx_agrees():
    """Hosts without AVX get the same kernel over <4 x float> (panels of 8 columns);
    its IR runs on this machine too."""
    import ctypes
    from netjit.backends.native import gemm_ir, jit
    names = {gemm_ir.SYMBOL: "t4_gemm", gemm_ir.PACK_A: "t4_pack", "netjit_sgemm_threads": "t4_threads"}
    text = gemm_ir.module_ir(4)
    for old, new in names.items():
        text = text.replace(old, new)
    product, pack_a = jit.load_many(jit.compile_ir(text), ["t4_gemm", "t4_pack"])
    p, i = ctypes.c_void_p, ctypes.c_int64
    product = ctypes.CFUNCTYPE(None, i, i, i, p, p, p, i, i, i, p, ctypes.c_int32)(product)
    pack_a = ctypes.CFUNCTYPE(None, i, i, p, i, p)(pack_a)
    rng = np.random.default_rng(14)
    for m, k, n in [(7, 13, 11), (12, 64, 8), (1, 5, 3), (20, 100, 37)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        w = rng.standard_normal((k, n)).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        panels = np.zeros((-(-n // 8), k, 8), np.float32)
        for q in range(panels.shape[0]):
            cols = w[:, q * 8:q * 8 + 8]
            panels[q, :, :cols.shape[1]] = cols
        rows = np.zeros(-(-m // gemm_ir.MR) * gemm_ir.MR * k, np.float32)
        out = np.full((m, n), np.nan, np.float32)
        pack_a(m, k, a.ctypes.data, k, rows.ctypes.data)
        product(m, n, k, rows.ctypes.data, panels.ctypes.data, out.ctypes.data, n, 0, panels.shape[0],
                b.ctypes.data, gemm_ir.BIAS | gemm_ir.RELU)
        np.testing.assert_allclose(out, _reference_product(a, w, b, True), rtol=1e-5, atol=_tolerance(k))
