"""The native code generator (backends/native) against the reference backend."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import given, settings
from strategies_native import elementwise_graph

from netjit.backends.base import DictStateStore
from netjit.backends.native import link
from netjit.backends.native.executable import NativeExecutable
from netjit.backends.native.lower import supported
from netjit.backends.native.eligibility import native_layout
from netjit.backends.numba import NumbaBackend, cache_stats
from netjit.backends.numba.executable import NumbaExecutable
from netjit.backends.numba.lowering.elementwise import register_scalar_form
from netjit.backends.reference import evaluate
from netjit.errors import CacheWarning
from netjit.compiler.ir import Graph
from netjit.compiler.ops import OP_REGISTRY, Const, MatMul, OpKind, Placeholder
from netjit.compiler.ops import elementwise as E
from netjit.compiler.pipeline import optimize
from netjit.config import SessionConfig
from netjit.errors import InvalidArgumentError

_EXAMPLES = 300 if os.environ.get("NETJIT_HYPOTHESIS_PROFILE") == "nightly" else 40


def _native(**options):
    """The numba backend with the native code generator taking small static segments too."""
    return NumbaBackend(native=True, **{"native_min_size": 0, **options})


def _assert_matches_reference(graph, feeds, exe, rtol=1e-4, atol=1e-5):
    expected = evaluate(graph, feeds, DictStateStore())
    got = exe(feeds)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


@settings(max_examples=_EXAMPLES, deadline=None)
@given(elementwise_graph())
def test_random_elementwise_graphs_match_reference(case):
    graph, feeds = case
    optimized = optimize(graph.copy(), SessionConfig())          # fused, as sessions compile it
    exe = _native().compile(optimized)
    assert isinstance(exe, NativeExecutable), native_layout(optimized, 32)[2]      # the strategy builds only these
    _assert_matches_reference(optimized, feeds, exe)


@settings(max_examples=_EXAMPLES // 4, deadline=None)
@given(elementwise_graph(max_steps=4))
def test_fastmath_0_keeps_ieee_arithmetic_and_libm(case):
    graph, feeds = case
    exe = _native(fastmath=0).compile(graph)
    # IEEE arithmetic and libm: within a few ulp of NumPy (its own exp/log differ by about
    # one ulp from libm's, which a subtraction of close values can magnify)
    _assert_matches_reference(graph, feeds, exe, rtol=1e-5, atol=1e-6)


def _chain(n_ops=6, scale=1.25, dtype=np.float32):
    """x -> tanh(x * scale) n_ops/2 times; tests that count cache events use their own scale."""
    g = Graph("chain")
    x = g.add(Placeholder(np.dtype(dtype), (None,)), names=["x"])
    g.inputs.append(x)
    h = (x, 0)
    k = (g.add(Const(np.array(scale, dtype))), 0)
    for _ in range(n_ops // 2):
        h = (g.add(E.Tanh(), [(g.add(E.Mul(), [h, k]), 0)]), 0)
    g.outputs = [h]
    return g


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 63, 64, 1000, 70_001])
def test_every_length_and_the_parallel_split(n):
    """Lengths around the vector width and the tail; above parallel_min_size the
    range is split over threads and must give the same elements."""
    g = _chain()
    x = np.linspace(-3, 3, n).astype(np.float32)
    serial = _native(parallel=False).compile(g)([x])[0]
    parallel = _native(parallel_min_size=1000).compile(g)([x])[0]
    np.testing.assert_array_equal(parallel, serial)
    _assert_matches_reference(g, [x], _native().compile(g))


def test_nan_and_inf_follow_numpy():
    g = Graph("nan")
    x = g.add(Placeholder(np.dtype(np.float32), (24,)), names=["x"])       # static: outputs of x
    y = g.add(Placeholder(np.dtype(np.float32), (24,)), names=["y"])       # alone are allowed
    g.inputs += [x, y]
    outs = [g.add(op, [(x, 0), (y, 0)]) for op in (E.Max(), E.Min(), E.LT(), E.EQ())]
    outs.append(g.add(E.Relu(), [(x, 0)]))
    outs.append(g.add(E.Exp(), [(x, 0)]))
    outs.append(g.add(E.Tanh(), [(x, 0)]))
    cast = g.add(E.Cast(np.dtype(np.bool_)), [(x, 0)])
    outs.append(g.add(E.Cast(np.dtype(np.float32)), [(cast, 0)]))
    lt = outs[2]
    outs[2] = g.add(E.Where(), [(lt, 0), (x, 0), (y, 0)])
    eq = outs[3]
    outs[3] = g.add(E.Cast(np.dtype(np.float32)), [(eq, 0)])
    g.outputs = [(n, 0) for n in outs]
    xs = np.array([np.nan, 1, -np.inf, np.inf, 100, -100, 0, 2] * 3, np.float32)
    ys = np.array([1, np.nan, 0, 5, np.nan, 3, 0, 2] * 3, np.float32)
    exe = _native().compile(g)
    assert isinstance(exe, NativeExecutable)
    _assert_matches_reference(g, [xs, ys], exe)


def test_segments_that_broadcast_or_contract_go_to_numba():
    g = Graph("bias")
    x = g.add(Placeholder(np.dtype(np.float32), (None, 4)), names=["x"])
    b = g.add(Placeholder(np.dtype(np.float32), (4,)), names=["b"])
    g.inputs += [x, b]
    g.outputs = [(g.add(E.Add(), [(x, 0), (b, 0)]), 0)]
    assert isinstance(_native().compile(g), NumbaExecutable)
    m = Graph("mm")
    a = m.add(Placeholder(np.dtype(np.float32), (3, 4)), names=["a"])
    m.inputs.append(a)
    w = m.add(Const(np.ones((4, 2), np.float32)))
    m.outputs = [(m.add(MatMul(), [(a, 0), (w, 0)]), 0)]
    assert isinstance(_native().compile(m), NumbaExecutable)
    assert isinstance(NumbaBackend(native=False).compile(_chain()), NumbaExecutable)


def test_native_arithmetic_keeps_a_cancelled_inf_or_nan():
    """No reassociation in native segments (they have no reduction to vectorise):
    (x + y) - y with y = inf or NaN is NaN, not x; x / d stays finite for a denormal d."""
    import netjit as nj

    def native_run(net, fetch, feeds, values):
        prog = nj.compile(net, fetch, feeds, tiered=False)
        md = nj.RunMetadata()
        out = prog.session.run(fetch, dict(zip(feeds, values)), run_metadata=md,
                               options=nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE))
        assert {st.tier for st in md.step_stats} == {"native"}
        return out

    n = 2048
    xv = np.full(n, 1.5, np.float32)
    yv = np.where(np.arange(n) % 2, np.inf, np.nan).astype(np.float32)
    net = nj.Net("cancel")
    x, y = net.Placeholder("x", np.float32, (None,)), net.Placeholder("y", np.float32, (None,))
    net.Sub([net.Add([x, y]), y], "xy")
    assert np.isnan(native_run(net, "xy", ["x", "y"], [xv, yv])).all()
    net = nj.Net("denormal")
    x = net.Placeholder("x", np.float32, (None,))
    net.Div([x, net.Const(np.float32(1e-40))], "xd")
    small = np.full(n, 1e-5, np.float32)
    want = small / np.float32(1e-40)            # 1e35: 1 / 1e-40 alone is inf in float32
    assert np.isfinite(want).all()
    np.testing.assert_allclose(native_run(net, "xd", ["x"], [small]), want, rtol=1e-6)


def test_a_fetched_one_element_value_keeps_its_shape():
    """Tanh(u) with u of one element beside Exp(x) of 2048: the native loop filled it
    out to (2048,); such a segment goes to numba, which keeps it (1,)."""
    import netjit as nj
    net = nj.Net("one_elem")
    x, u = net.Placeholder("x", np.float32, (2048,)), net.Placeholder("u", np.float32, (1,))
    net.Exp(x, "ex")
    net.Tanh(u, "tu")
    net.Log(net.Tanh(net.Const(np.array([0.7], np.float32))), "lc")
    xv, uv = np.linspace(-1, 1, 2048, dtype=np.float32), np.array([0.3], np.float32)
    ex, tu, lc = nj.compile(net, ["ex", "tu", "lc"], ["x", "u"], tiered=False)(xv, uv)
    assert (ex.shape, tu.shape, lc.shape) == ((2048,), (1,), (1,))
    np.testing.assert_allclose(tu, np.tanh(uv), rtol=1e-6)
    np.testing.assert_allclose(lc, np.log(np.tanh(np.float32(0.7))), rtol=1e-6)


def test_small_static_segments_stay_on_numba_for_its_cheaper_calls():
    def add(shape):
        g = Graph("add")
        x = g.add(Placeholder(np.dtype(np.float32), shape), names=["x"])
        g.inputs.append(x)
        g.outputs = [(g.add(E.Add(), [(x, 0), (x, 0)]), 0)]
        return g
    backend = NumbaBackend(native=True)                      # native_min_size at its default
    assert isinstance(backend.compile(add((4,))), NumbaExecutable)
    assert isinstance(backend.compile(add((None,))), NativeExecutable)
    assert isinstance(backend.compile(add((32, 32))), NativeExecutable)


def test_dynamic_dims_that_differ_at_run_time_broadcast_or_fail_clearly():
    g = Graph("dyn")
    x = g.add(Placeholder(np.dtype(np.float64), (None, None)), names=["x"])
    y = g.add(Placeholder(np.dtype(np.float64), (None, None)), names=["y"])
    g.inputs += [x, y]
    g.outputs = [(g.add(E.Sub(), [(x, 0), (y, 0)]), 0)]
    exe = _native().compile(g)
    assert isinstance(exe, NativeExecutable)
    a, b = np.arange(12.0).reshape(3, 4), np.arange(4.0).reshape(1, 4)
    np.testing.assert_array_equal(exe([a, b])[0], a - b)
    np.testing.assert_array_equal(exe([a.T, a.T])[0], np.zeros((4, 3)))       # not C-contiguous
    np.testing.assert_array_equal(exe([a.astype(np.float32), a])[0], np.zeros((3, 4)))
    with pytest.raises(InvalidArgumentError, match=r"\['x', 'y'\] do not broadcast"):
        exe([a, np.ones((2, 4))])
    with pytest.raises(InvalidArgumentError, match="expected 2 inputs"):
        exe([a])
    np.testing.assert_array_equal(exe([a, a])[0], np.zeros((3, 4)))          # still usable


def test_a_single_element_input_must_stay_one_element():
    g = Graph("scale")
    x = g.add(Placeholder(np.dtype(np.float32), (None,)), names=["x"])
    s = g.add(Placeholder(np.dtype(np.float32), (1,)), names=["s"])
    g.inputs += [x, s]
    g.outputs = [(g.add(E.Mul(), [(x, 0), (s, 0)]), 0)]
    exe = _native().compile(g)
    x_val = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(exe([x_val, np.array([3], np.float32)])[0], x_val * 3)
    with pytest.raises(InvalidArgumentError, match="'s' must hold one element"):
        exe([x_val, np.ones(2, np.float32)])


def test_large_constants_are_arguments_and_small_ones_table_entries():
    g = Graph("consts")
    x = g.add(Placeholder(np.dtype(np.float32), (2, 3)), names=["x"])
    g.inputs.append(x)
    w = g.add(Const(np.arange(6, dtype=np.float32).reshape(2, 3) + 10))
    k = g.add(Const(np.float32(0.5)))
    g.outputs = [(g.add(E.Add(), [(g.add(E.Mul(), [(x, 0), (w, 0)]), 0), (k, 0)]), 0)]
    exe = _native().compile(g)
    assert isinstance(exe, NativeExecutable)
    define = next(line for line in exe.source.splitlines() if line.startswith("define void"))
    assert define.count("float*") == 4                      # the float32 table, x, w and the output
    f32, f64 = exe.constant_tables
    assert 0.5 in f32 and not set(f32) & set(range(10, 16)) and f64.size == 0
    _assert_matches_reference(g, [np.ones((2, 3), np.float32)], exe)


def test_memory_cache_and_disk_entry(tmp_path):
    opts = dict(cache_dir=str(tmp_path))
    before = cache_stats()
    exe = _native(**opts).compile(_chain(10, 1.5))
    again = _native(**opts).compile(_chain(10, 1.5))
    stats = cache_stats()
    assert stats["native_compiles"] == before["native_compiles"] + 1
    assert stats["memory_hits"] == before["memory_hits"] + 1 and again.cache_hit
    entry = next(tmp_path.glob("*/*"))
    linked = ["segment.so"] if link.linker() else []
    assert sorted(p.name for p in entry.iterdir()) == ["consts.f32", "consts.f64", "manifest.json",
                                                       "segment.ll", "segment.o"] + linked
    assert sorted(json.loads((entry / "manifest.json").read_text())["files"]) == sorted(
        ["consts.f32", "consts.f64", "segment.ll", "segment.o"] + linked)
    assert exe.key == entry.name and "define" in (entry / "segment.ll").read_text()


_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import netjit as nj
    from netjit.backends.numba import cache_stats
    net = nj.Net("xproc")
    x = net.Placeholder("x", np.float32, (None,))
    y = net.Tanh(net.Mul([x, net.Const(2.0)]))
    prog = nj.compile(net, y, feeds=["x"], backend="numba", tiered=False)
    out = prog(np.linspace(-1, 1, 50).astype(np.float32))
    np.testing.assert_allclose(out, np.tanh(2 * np.linspace(-1, 1, 50)), rtol=1e-5, atol=1e-6)
    print(json.dumps({"stats": cache_stats(), "numba_imported": "numba" in sys.modules,
                      "llvm_loaded": "llvmlite.binding" in sys.modules}))
""")


def _child(cache_dir, **env_vars):
    env = dict(os.environ, NETJIT_CACHE_DIR=str(cache_dir), **env_vars)
    env.pop("NETJIT_NATIVE", None)
    res = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("linked", [True, False], ids=["shared-library", "object-code"])
def test_second_process_loads_the_entry_without_numba(tmp_path, linked):
    """With a shared library in the entry (a C compiler driver is installed) the
    second process does not load LLVM either; without, it loads the object code."""
    if linked and link.linker() is None:
        pytest.skip("no C compiler driver (cc, gcc, clang) to link shared libraries")
    env = {} if linked else {"NETJIT_NATIVE_LINK": "0"}
    first = _child(tmp_path, **env)
    assert first["stats"]["native_compiles"] == 1 and first["stats"]["misses"] == 1
    second = _child(tmp_path, **env)
    assert second["stats"]["disk_hits"] == 1 and second["stats"]["native_compiles"] == 0
    assert not second["numba_imported"] and not first["numba_imported"]
    assert second["llvm_loaded"] is not linked


@pytest.mark.parametrize("damage", ["truncate", "manifest", "delete", "library"])
def test_a_damaged_entry_is_recompiled(tmp_path, damage):
    if damage == "library" and link.linker() is None:
        pytest.skip("no C compiler driver: entries hold no shared library")
    g = _chain(4, {"truncate": 0.25, "manifest": 0.5, "delete": 0.75, "library": 0.875}[damage])
    first = _native(cache_dir=str(tmp_path)).compile(g)
    entry = tmp_path / first.key[:2] / first.key
    # the same process would answer from memory: drop that to reach the disk
    from netjit.backends.common import cache
    cache.memory_forget(first.key)
    if damage == "truncate":
        (entry / "segment.o").write_bytes((entry / "segment.o").read_bytes()[:100])
    elif damage == "manifest":
        (entry / "manifest.json").write_text("{not json")
    elif damage == "delete":
        (entry / "segment.o").unlink()
    else:
        (entry / "segment.so").write_bytes(b"\x7fELF not really")
    before = cache_stats()
    exe = _native(cache_dir=str(tmp_path)).compile(g)
    after = cache_stats()
    assert after["corrupt"] == before["corrupt"] + 1
    assert after["native_compiles"] == before["native_compiles"] + 1 and not exe.cache_hit
    x = np.linspace(-2, 2, 33).astype(np.float32)
    _assert_matches_reference(g, [x], exe)


def test_a_library_that_will_not_load_is_dropped_and_the_object_code_used(tmp_path):
    if link.linker() is None:
        pytest.skip("no C compiler driver: entries hold no shared library")
    g = _chain(4, 1.125)
    first = _native(cache_dir=str(tmp_path)).compile(g)
    entry = tmp_path / first.key[:2] / first.key
    from netjit.backends.common import cache
    cache.memory_forget(first.key)
    junk = b"\x7fELF not really"               # the signed manifest agrees, but it will not load
    files = {p.name: p.read_bytes() for p in entry.iterdir() if p.name != "manifest.json"}
    (entry / "segment.so").write_bytes(junk)
    cache.write_manifest(entry, {**files, "segment.so": junk})
    before = cache_stats()
    exe = _native(cache_dir=str(tmp_path)).compile(g)
    after = cache_stats()
    assert exe.cache_hit and after["native_compiles"] == before["native_compiles"]
    assert not (entry / "segment.so").exists()
    assert "segment.so" not in json.loads((entry / "manifest.json").read_text())["files"]
    _assert_matches_reference(g, [np.linspace(-2, 2, 33).astype(np.float32)], exe)


def test_an_unwritable_cache_warns_and_still_compiles(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.warns(CacheWarning, match="cannot be written"):
        exe = _native(cache_dir=str(blocker)).compile(_chain(4, 1.625))
    _assert_matches_reference(_chain(4, 1.625), [np.linspace(-2, 2, 33).astype(np.float32)], exe)


def test_disabled_cache_writes_nothing(tmp_path):
    exe = _native(cache=False, cache_dir=str(tmp_path)).compile(_chain(12, 1.75))
    assert isinstance(exe, NativeExecutable) and not any(tmp_path.iterdir())


#: The elementwise ops of netjit's first op set: each has a native lowering. Ops added
#: since (the ONNX families) run on numba or the reference backend until they get one.
_CORE_ELEMENTWISE = {"Abs", "Add", "And", "Cast", "Copy", "Div", "EQ", "Exp", "GE", "GT", "LE", "LT", "Log",
                     "Max", "Min", "Mul", "Neg", "Not", "Or", "Pow", "Relu", "Sigmoid", "Sqrt", "Sub", "Sum",
                     "Tanh", "Where"}
_NATIVE_ELEMENTWISE = sorted(n for n, c in OP_REGISTRY.items() if c.kind is OpKind.ELEMENTWISE
                             and all(supported(s.op) for s in c.samples()))


def test_the_core_elementwise_ops_have_native_lowerings():
    assert _CORE_ELEMENTWISE <= set(_NATIVE_ELEMENTWISE)


@pytest.mark.parametrize("name", _NATIVE_ELEMENTWISE)
def test_every_native_elementwise_lowering_matches_reference(name):
    cls = OP_REGISTRY[name]
    samples = cls.samples()
    ran = 0
    for s in samples:
        arrays = [np.asarray(x) for x in s.inputs]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        if any(a.dtype.kind != "f" or a.shape not in (shape, ()) for a in arrays):
            continue                # ints, bools and broadcasting inputs are numba's
        g = Graph(f"native_{name}")
        ins = []
        for k, a in enumerate(arrays):
            n = g.add(Placeholder(a.dtype, (None,) * a.ndim), names=[f"in{k}"])
            g.inputs.append(n)
            ins.append((n, 0))
        g.outputs = [(g.add(s.op, ins), 0)]
        exe = _native().compile(g)
        if g.type(g.outputs[0]).dtype.kind != "f":
            assert not isinstance(exe, NativeExecutable)       # bool outputs stay on numba
            continue
        assert isinstance(exe, NativeExecutable), native_layout(g, 32)[2]
        _assert_matches_reference(g, arrays, exe)
        ran += 1
    assert ran or name in _NO_FLOAT_SAMPLE, f"no float sample of {name} ran natively"


#: elementwise ops whose samples all take or give bool or integers (they still have lowerings;
#: the random graphs run them natively inside float segments)
_NO_FLOAT_SAMPLE = {"And", "Or", "Not", "LT", "LE", "GT", "GE", "EQ", "Cast", "Where"}


class _Cube(E.UnaryKeep):
    """An elementwise op from outside netjit (not registered): numba has its
    scalar form, the native code generator no lowering."""

    numpy_fn = staticmethod(lambda x: x * x * x)


register_scalar_form(_Cube, "({0} * {0} * {0})")


def test_an_op_without_a_native_lowering_compiles_through_numba(tmp_path):
    g = Graph("cube")
    x = g.add(Placeholder(np.dtype(np.float32), (None,)), names=["x"])
    g.inputs.append(x)
    g.outputs = [(g.add(_Cube(), [(x, 0)]), 0)]
    exe = _native(cache_dir=str(tmp_path)).compile(g)
    assert isinstance(exe, NumbaExecutable)
    _assert_matches_reference(g, [np.linspace(-2, 2, 20).astype(np.float32)], exe)


def test_large_outputs_reuse_buffers_only_once_the_caller_dropped_them():
    exe = _native(parallel_min_size=1000).compile(_chain(4, 0.625))
    a, b = np.linspace(-2, 2, 5000).astype(np.float32), np.linspace(3, -3, 5000).astype(np.float32)
    first = exe([a])[0]
    kept = first.copy()
    second = exe([b])[0]
    assert second is not first and np.array_equal(first, kept)      # a held result is never reused
    address = second.__array_interface__["data"][0]
    del second
    third = exe([b])[0]
    assert third.__array_interface__["data"][0] == address           # a dropped one is
    np.testing.assert_array_equal(third, exe([b.copy()])[0])
    np.testing.assert_array_equal(first, kept)


def test_an_llvm_failure_names_the_segment_and_leaves_no_entry(tmp_path, monkeypatch):
    from netjit.backends.native import jit
    from netjit.errors import CompilationError

    def refuse(text):
        raise RuntimeError("LLVM says no")
    monkeypatch.setattr(jit, "compile_ir", refuse)
    g = _chain(6, 1.375)
    expected = r"segment 'chain' \(ops: Mul, Tanh.*LLVM says no; generated IR: (\S+)"
    with pytest.raises(CompilationError, match=expected) as info:
        _native(cache_dir=str(tmp_path / "cache"), dump_dir=str(tmp_path / "dump")).compile(g)
    dumped = info.value.args[0].rsplit("generated IR: ", 1)[1]
    assert "define void" in open(dumped).read()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("manifest.json"))
    monkeypatch.undo()
    exe = _native(cache_dir=str(tmp_path / "cache")).compile(g)                # usable afterwards
    _assert_matches_reference(g, [np.linspace(-1, 1, 40).astype(np.float32)], exe)


# -- cases a review found wrong, each against the reference --------------------------
def _graph(name, shapes, build, dtype=np.float32):
    """A graph of placeholders of ``shapes`` (blob names a, b, ...) and ``build(g, *values)``'s outputs."""
    g = Graph(name)
    vals = []
    for k, shape in enumerate(shapes):
        n = g.add(Placeholder(np.dtype(dtype), shape), names=["abcdef"[k]])
        g.inputs.append(n)
        vals.append((n, 0))
    g.outputs = [(n, 0) for n in build(g, *vals)]
    return g


def test_a_full_bool_constant_goes_to_numba():
    mask = np.tril(np.ones((4, 16), bool), 3)
    g = _graph("mask", [(4, 16)], lambda g, x: [g.add(E.Where(), [(g.add(Const(mask)), 0), x,
                                                                   (g.add(Const(np.float32(-1))), 0)])])
    exe = _native().compile(g)
    assert not isinstance(exe, NativeExecutable)
    _assert_matches_reference(g, [np.arange(64, dtype=np.float32).reshape(4, 16)], exe)


def test_minus_zero_and_zero_are_different_constants():
    g = _graph("zeros", [(None,)], lambda g, x: [g.add(E.Relu(), [x]),
                                                 g.add(E.Div(), [x, (g.add(Const(np.float32(-0.0))), 0)])])
    exe = _native(fastmath=0).compile(g)
    assert isinstance(exe, NativeExecutable)
    _assert_matches_reference(g, [np.array([1, -2, 3, 0.5] * 5, np.float32)], exe)


def test_outputs_of_different_inputs_with_dynamic_shapes_go_to_numba():
    g = _graph("two", [(None, 4), (None, 4)], lambda g, x, y: [g.add(E.Tanh(), [x]), g.add(E.Exp(), [y])])
    exe = _native().compile(g)
    assert not isinstance(exe, NativeExecutable)
    _assert_matches_reference(g, [np.ones((1, 4), np.float32), np.ones((5, 4), np.float32)], exe)


def test_a_full_constant_fixes_the_shape_and_inputs_broadcast_to_it():
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    g = _graph("constshape", [(None, 4)], lambda g, x: [g.add(E.Mul(), [x, (g.add(Const(w)), 0)])])
    exe = _native().compile(g)
    assert isinstance(exe, NativeExecutable)
    _assert_matches_reference(g, [np.full((3, 4), 2, np.float32)], exe)
    _assert_matches_reference(g, [np.full((1, 4), 2, np.float32)], exe)          # broadcast to (3, 4)
    with pytest.raises(InvalidArgumentError, match="do not broadcast"):
        exe([np.ones((5, 4), np.float32)])


def test_integers_inside_a_fused_program_go_to_numba():
    def build(g, x):
        as_int = g.add(E.Cast(np.dtype(np.int32)), [(g.add(E.Mul(), [x, (g.add(Const(np.float32(3))), 0)]), 0)])
        return [g.add(E.Add(), [(g.add(E.Cast(np.dtype(np.float32)), [(as_int, 0)]), 0), x])]
    g = optimize(_graph("ints", [(None,)], build), SessionConfig())
    exe = _native().compile(g)
    assert not isinstance(exe, NativeExecutable)
    _assert_matches_reference(g, [np.linspace(-2, 2, 50).astype(np.float32)], exe)


def test_fastmath_2_keeps_the_approximations_finite():
    g = _graph("fm2", [(None,)], lambda g, x: [g.add(E.Sigmoid(), [x]), g.add(E.Tanh(), [x])])
    x = np.linspace(-100, 100, 1001).astype(np.float32)
    sig, tanh = _native(fastmath=2).compile(g)([x])
    assert not np.isnan(sig).any() and not np.isnan(tanh).any()
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-x.astype(np.float64))), rtol=1e-5, atol=1e-7)


def test_zero_elements_on_the_parallel_path():
    exe = _native(parallel_min_size=0).compile(_chain(2, 0.375))
    out = exe([np.zeros(0, np.float32)])[0]
    assert out.shape == (0,) and out.dtype == np.float32


def test_a_forked_child_runs_the_parallel_path():
    exe = _native(parallel_min_size=1000).compile(_chain(2, 0.4375))
    x = np.linspace(-1, 1, 10_000).astype(np.float32)
    expected = exe([x])[0].copy()                       # the parent's workers exist now
    pid = os.fork()
    if pid == 0:                                        # the child: same answer, no hang
        os._exit(0 if np.array_equal(exe([x])[0], expected) else 1)
    waited = 0.0
    while waited < 60:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
        waited += 0.05
    os.kill(pid, 9)
    pytest.fail("the forked child hung on the parallel path")


_GRID = np.concatenate([np.linspace(-87.3, 88.3, 400_001), np.linspace(-3, 3, 100_001),
                        np.geomspace(1e-30, 1, 1000), -np.geomspace(1e-30, 1, 1000)]).astype(np.float32)


@pytest.mark.parametrize("op, ref, bound", [(E.Exp, np.exp, 4e-7), (E.Tanh, np.tanh, 4e-7),
                                            (E.Sigmoid, lambda x: 1 / (1 + np.exp(-x)), 5e-7)])
def test_the_approximations_keep_mathlibs_documented_error_bounds(op, ref, bound):
    """The bounds backends/numba/mathlib.py documents (its own test checks numba's)."""
    g = _graph(f"approx_{op.__name__}", [(None,)], lambda g, x: [g.add(op(), [x])])
    out = _native().compile(g)([_GRID])[0]
    exact = ref(_GRID.astype(np.float64))
    normal = np.abs(exact) > np.finfo(np.float32).tiny
    assert (np.abs(out[normal] - exact[normal]) / np.abs(exact[normal])).max() <= bound


def test_threads_compiling_one_segment_compile_it_once():
    """Each thread compiles the same (new) segment: one compile, the rest wait for it."""
    import threading
    graph = _chain(n_ops=9, scale=1.0625)            # a key no other test compiles
    before = cache_stats()["native_compiles"]
    barrier = threading.Barrier(4)
    exes = []

    def compile_one():
        barrier.wait()
        exes.append(_native(cache=False).compile(graph))

    threads = [threading.Thread(target=compile_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache_stats()["native_compiles"] - before == 1
    x = np.linspace(-2, 2, 50).astype(np.float32)
    for exe in exes:
        _assert_matches_reference(graph, [x], exe)
