"""Every backend through the contract of ``backends.base``: outputs, tier, cache hits,
``on_compiled``, ``wait``, ``fast_call``, sources and the backend's own declarations."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.backends import get_backend
from netjit.backends.base import Backend, DictStateStore, Executable
from netjit.backends.common.tiered import TieredExecutable
from netjit.backends.native.executable import NativeExecutable
from netjit.backends.numba import NumbaBackend
from netjit.backends.numba.executable import NumbaExecutable
from netjit.backends.reference import HostExecutable, ReferenceBackend, ReferenceExecutable, evaluate
from netjit.compiler import ops as O
from netjit.compiler.ir import Graph
from netjit.compiler.ops import OP_REGISTRY, ConstValue

F32 = np.dtype(np.float32)


def elementwise_graph() -> Graph:
    """y = tanh(x * 2) + x: float elementwise only, so the native code generator takes it."""
    g = Graph("ew")
    x = g.add(O.Placeholder(F32, (None,)), names=["x"])
    two = g.add(O.Const(ConstValue(np.float32(2.0))))
    t = g.add(O.Tanh(), [(g.add(O.Mul(), [(x, 0), (two, 0)]), 0)])
    g.inputs, g.outputs = [x], [(g.add(O.Add(), [(t, 0), (x, 0)], names=["y"]), 0)]
    return g


def layer_graph() -> Graph:
    """y = relu(x @ w): a product, so numba compiles it."""
    g = Graph("layer")
    x = g.add(O.Placeholder(F32, (None, 4)), names=["x"])
    w = g.add(O.Const(ConstValue(np.linspace(-1, 1, 12, dtype=F32).reshape(4, 3))), names=["w"])
    mm = g.add(O.MatMul(), [(x, 0), (w, 0)])
    g.inputs, g.outputs = [x], [(g.add(O.Relu(), [(mm, 0)], names=["y"]), 0)]
    return g


#: (id, backend factory, graph factory, input, final tier, final executable class, tiered)
CASES = [
    ("reference", ReferenceBackend, layer_graph, (5, 4), "reference", ReferenceExecutable, False),
    ("numba", lambda: NumbaBackend(native=False), layer_graph, (5, 4), "numba", NumbaExecutable, False),
    ("numba-tiered", lambda: NumbaBackend(native=False, tiered=True), layer_graph, (5, 4), "numba",
     NumbaExecutable, True),
    ("native", lambda: NumbaBackend(native=True, native_min_size=0), elementwise_graph, (50,), "native",
     NativeExecutable, False),
    ("native-tiered", lambda: NumbaBackend(native=True, native_min_size=0, tiered=True), elementwise_graph,
     (50,), "native", NativeExecutable, True),
]


def _input(shape):
    return np.linspace(-2, 2, int(np.prod(shape)), dtype=F32).reshape(shape)


def _check_outputs(graph, exe, x, call=None):
    want = evaluate(graph, [x], DictStateStore())
    got = (call or exe)([x], None)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, backend, make_graph, shape, tier, final_cls, tiered", CASES,
                         ids=[c[0] for c in CASES])
def test_executables_keep_the_contract(name, backend, make_graph, shape, tier, final_cls, tiered):
    graph, x = make_graph(), _input(shape)
    exe = backend().compile(graph)
    assert isinstance(exe, Executable) and exe.tiered is tiered
    assert exe.input_names == ("x",) and exe.host_reason is None
    seen = []
    exe.on_compiled(seen.append)
    _check_outputs(graph, exe, x)
    _check_outputs(graph, exe, x, call=exe.fast_call)
    if tiered:
        assert isinstance(exe, TieredExecutable)
        final = exe.wait(60)
        assert seen == [final]                   # the hot path's swap
        exe([x], None)
        assert exe.tier == tier and exe.cache_hit is final.cache_hit
        late = []
        exe.on_compiled(late.append)             # registered after the switch: called at once
        assert late == [final]
    else:
        final = exe
        assert exe.wait(0) is exe and seen == []  # nothing to wait for, nothing to swap
    assert isinstance(final, final_cls) and final.tier == tier and not final.tiered
    _check_outputs(graph, final, x, call=final.fast_call)
    if tier == "reference":
        assert final.cache_hit is None and final.source is None and final.wrapper_source == ""
    else:
        assert isinstance(final.cache_hit, bool) and final.source
        assert final.source_suffix == (".ll" if tier == "native" else ".py")
        assert bool(final.wrapper_source) is (tier == "numba")
        again = backend().compile(make_graph())
        assert again.wait(60).cache_hit is True   # the same segment, from the memory cache


def test_a_tiered_executable_answers_from_the_reference_tier_first():
    graph, x = layer_graph(), _input((3, 4))
    exe = NumbaBackend(native=False, tiered=True).compile(graph)
    assert exe.tier == "reference" and exe.cache_hit is None
    _check_outputs(graph, exe, x)
    exe.wait(60)


def test_a_host_executable_says_why_it_runs_on_the_reference_backend():
    graph, x = layer_graph(), _input((2, 4))
    exe = HostExecutable(graph, "no lowering for Cube")
    assert exe.tier == "reference" and exe.host_reason == "no lowering for Cube" and exe.cache_hit is None
    _check_outputs(graph, exe, x)


@pytest.mark.parametrize("name", ["reference", "numba"])
def test_backends_declare_what_they_compile(name):
    backend = get_backend(name)
    assert isinstance(backend, Backend) and backend.name == name
    ops = backend.compiled_ops()
    assert ops <= frozenset(OP_REGISTRY.values())
    assert {O.MatMul, O.Add, O.Tanh, O.Relu} <= ops
    if name == "reference":
        assert ops == frozenset(OP_REGISTRY.values())


def test_deferral_is_declared_and_the_default_prepares_first():
    assert NumbaBackend.supports_deferral and not ReferenceBackend.supports_deferral
    prepared = []

    def prepare(g):
        prepared.append(g)
        return g

    graph = layer_graph()
    exe = ReferenceBackend().compile_deferred(graph, prepare)
    assert prepared == [graph]
    _check_outputs(graph, exe, _input((2, 4)))
