"""Tiered execution, compilation errors and the shape of generated code."""
import numpy as np
import pytest

from netjit.backends.numba import blas
from numba_helpers import PipelineNumba as NumbaBackend  # the SEGMENT passes, then numba
from netjit.compiler.ir import Graph
from netjit.compiler.ops import (Add, Const, ConstValue, FC, MatMul, Placeholder, ReduceMean,
                                 ReduceSum, Relu, Softmax, Sqrt, Sub, Mul, Div)
from netjit.errors import CompilationError, InvalidArgumentError


def _layer_norm_graph():
    g = Graph("ln")
    x = g.add(Placeholder(np.float32, (None, None)), names=["x"])
    g.inputs.append(x)
    m = g.add(ReduceMean(axes=(-1,)), [(x, 0)])
    d = g.add(Sub(), [(x, 0), (m, 0)])
    v = g.add(ReduceMean(axes=(-1,)), [(g.add(Mul(), [(d, 0), (d, 0)]), 0)])
    eps = g.add(Const(ConstValue(np.float32(1e-5))))
    s = g.add(Sqrt(), [(g.add(Add(), [(v, 0), (eps, 0)]), 0)])
    g.outputs = [(g.add(Div(), [(d, 0), (s, 0)]), 0)]
    return g


def test_tiered_runs_reference_first_then_numba():
    g = _layer_norm_graph()
    exe = NumbaBackend(tiered=True).compile(g)
    x = np.random.default_rng(1).standard_normal((5, 7)).astype(np.float32)
    first = exe([x])[0]
    compiled = exe.wait(timeout=300)
    second = exe([x])[0]
    assert exe.tier == "numba" and exe.calls["numba"] == 1
    assert compiled.tier == "numba"
    expect = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(first, expect, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(second, expect, rtol=1e-4, atol=1e-5)


def test_direct_paths_call_the_compiled_tier_once_it_is_ready():
    """Program and Session.run stop going through the tier dispatch after the switch."""
    import netjit as nj
    net = nj.Net("tier_switch")
    x = net.Placeholder("x", np.float32, (None,))
    y = net.Tanh(net.Mul([x, x]), "y")
    xv = np.linspace(-2, 2, 9).astype(np.float32)
    prog = nj.compile(net, y, feeds=[x], backend="numba", tiered=True)
    np.testing.assert_allclose(prog(xv), np.tanh(xv * xv), rtol=1e-5)
    (entry,) = prog.session._cache.entries()
    tiered = entry.schedule.segments[0].executable
    assert tiered.tier == "reference" and tiered.calls["reference"] == 1
    tiered.wait(timeout=300)
    assert tiered.tier == "numba"
    for _ in range(3):
        np.testing.assert_allclose(prog(xv), np.tanh(xv * xv), rtol=1e-5)
        np.testing.assert_allclose(prog.session.run(y, {x: xv}), np.tanh(xv * xv), rtol=1e-5)
    assert tiered.calls == {"reference": 1}     # both paths hold the compiled tier


def test_layer_norm_is_one_group_of_three_passes():
    src = NumbaBackend().generate_source(_layer_norm_graph())
    kernel = src.split("@njit")[1]
    assert kernel.count("for j in range(") == 3          # mean, variance, output
    assert "np.empty" in kernel and kernel.count("np.empty") == 1   # only the output is allocated
    assert "# %" in kernel                                # IR lines as comments


def test_softmax_and_fc_relu_fuse():
    g = Graph("mlp")
    x = g.add(Placeholder(np.float32, (None, 3)), names=["x"])
    g.inputs.append(x)
    w = g.add(Const(ConstValue(np.ones((4, 3), np.float32))), names=["w"])
    b = g.add(Const(ConstValue(np.arange(4, dtype=np.float32))), names=["b"])
    h = g.add(Relu(), [(g.add(FC(), [(x, 0), (w, 0), (b, 0)]), 0)], names=["h"])
    g.outputs = [(g.add(Softmax(), [(h, 0)], names=["y"]), 0)]
    src = NumbaBackend().generate_source(g)
    kernel = src.split("@njit")[1]
    assert kernel.count("sgemm(" if blas.AVAILABLE else "np.dot(") == 1
    assert "overwrite the GEMM result in place" in kernel     # bias + relu in the GEMM buffer
    assert kernel.count("for j in range(") == 3       # max, sum, output; bias+relu recomputed in each
    exe = NumbaBackend().compile(g)
    xv = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32)
    hv = np.maximum(xv @ np.ones((3, 4), np.float32) + np.arange(4), 0)
    e = np.exp(hv - hv.max(1, keepdims=True))
    np.testing.assert_allclose(exe([xv])[0], e / e.sum(1, keepdims=True), rtol=1e-5)


def test_generated_source_is_deterministic():
    assert NumbaBackend().generate_source(_layer_norm_graph()) == NumbaBackend().generate_source(_layer_norm_graph())


def test_compilation_error_names_segment_ops_and_source(monkeypatch, tmp_path):
    from netjit.backends.numba import codegen
    g = Graph("broken")
    x = g.add(Placeholder(np.float32, (None,)), names=["x"])
    g.inputs.append(x)
    g.outputs = [(g.add(Relu(), [(x, 0)], names=["r"]), 0)]
    real = codegen.generate

    def bad_generate(graph, options):
        gen = real(graph, options)
        gen.module_source = gen.module_source.replace("np.maximum(", "np.no_such_function(")
        return gen
    monkeypatch.setattr(codegen, "generate", bad_generate)
    with pytest.raises(CompilationError) as info:
        NumbaBackend(cache_dir=str(tmp_path), dump_dir=str(tmp_path)).compile(g)
    msg = str(info.value)
    assert "'broken'" in msg and "Relu(r)" in msg and "generated source: " in msg
    path = msg.rsplit("generated source: ", 1)[1]
    assert "no_such_function" in open(path).read()
    assert not list(tmp_path.glob("*/*/manifest.json")) and not list(tmp_path.glob("*/*/segment.py"))


def test_runtime_shape_errors_are_invalid_argument():
    g = Graph("bcast")
    a = g.add(Placeholder(np.float32, (None,)), names=["a"])
    b = g.add(Placeholder(np.float32, (None,)), names=["b"])
    g.inputs += [a, b]
    g.outputs = [(g.add(Add(), [(a, 0), (b, 0)]), 0)]
    exe = NumbaBackend().compile(g)
    np.testing.assert_array_equal(exe([np.ones(3, np.float32), np.ones(1, np.float32)])[0], np.full(3, 2.0))
    with pytest.raises(InvalidArgumentError, match="bcast"):
        exe([np.ones(3, np.float32), np.ones(2, np.float32)])


def test_matmul_batched_and_int():
    g = Graph("mm")
    a = g.add(Placeholder(np.int64, (None, None, None)), names=["a"])
    b = g.add(Placeholder(np.int64, (None, None)), names=["b"])
    g.inputs += [a, b]
    g.outputs = [(g.add(MatMul(), [(a, 0), (b, 0)]), 0)]
    av, bv = np.arange(24).reshape(2, 3, 4), np.arange(8).reshape(4, 2)
    np.testing.assert_array_equal(NumbaBackend().compile(g)([av, bv])[0], av @ bv)


def _python_op_net():
    import netjit as nj
    net = nj.Net("host_feeds_compiled")
    x = net.Placeholder("x", np.float32, (None,))

    def double(inputs, outputs):
        outputs[0] = inputs[0] * 2
    y = net.Python(double)([x], "y")          # its output's rank is unknown until it runs
    net.Add([y, net.Const(np.float32(1))], "z")
    net.ReduceSum(y, "s")
    return net


@pytest.mark.parametrize("tiered", [False, True])
def test_ops_over_a_python_ops_output_run_on_the_host_instead_of_failing(tiered):
    """Typed code needs ranks: such a segment runs on the reference backend, every call.
    It used to fail to compile, and tiered, to fail every call after the first ones."""
    import netjit as nj
    sess = nj.Session(_python_op_net(), nj.SessionConfig(tiered=tiered))
    x = np.arange(3, dtype=np.float32)
    for _ in range(2):
        np.testing.assert_array_equal(sess.run("z", {"x": x}), 2 * x + 1)
        np.testing.assert_array_equal(sess.run("s", {"x": x}), [6.0])
        sess.wait_compiled()
    md = nj.RunMetadata()
    sess.run("z", {"x": x}, run_metadata=md, options=nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE))
    assert {st.tier for st in md.step_stats} == {"reference"}


def test_a_segment_without_lowering_says_why_it_runs_on_the_host():
    g = Graph("unknown_rank")
    x = g.add(Placeholder(np.float32, None), names=["x"])
    g.inputs.append(x)
    g.outputs = [(g.add(ReduceSum(), [(x, 0)]), 0)]
    exe = NumbaBackend().compile(g, tiered=False)
    assert exe.tier == "reference" and "unknown rank" in exe.host_reason
    np.testing.assert_array_equal(exe([np.ones((2, 3), np.float32)])[0], np.full((1, 1), 6.0, np.float32))
