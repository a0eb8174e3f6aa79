"""The dtypes ONNX brought (i8 i16 u8 u16 u32 u64 f16): IR text and JSON, promotion, both backends."""
from __future__ import annotations

import numpy as np
import pytest

import netjit as nj
from netjit.compiler.frontend.lowering import lower_net
from netjit.compiler.ir import graph_from_json, graph_to_json, parse_graph
from netjit.compiler.ops import DTYPES, TensorType, promote

NEW = ["i8", "i16", "u8", "u16", "u32", "u64", "f16"]


def _net(dt: np.dtype) -> nj.Net:
    net = nj.Net("dtypes")
    x = net.Placeholder("x", dt, (None, 3))
    c = net.Const(np.array([1, 2, 3], dtype=dt), "c", dtype=dt)   # an f16 array alone would be f32 (Caffe2)
    net.Relu(net.Add([x, c]), "y")
    return net


def _graph(net: nj.Net, dt: np.dtype):
    return lower_net(net.ops, "g", {"x": TensorType(dt, (None, 3))}).graph


@pytest.mark.parametrize("name", NEW)
def test_ir_text_and_json_round_trip(name):
    net = _net(DTYPES[name])
    graph = _graph(net, DTYPES[name])
    text = str(graph)
    assert f"{name}[?,3]" in text and f"{name}[3][1" in text
    assert str(parse_graph(text)) == text
    assert str(graph_from_json(graph_to_json(graph))) == text


def test_promotion_follows_numpy():
    for a in NEW:
        for b in ["f32", "i64", *NEW]:
            assert promote(DTYPES[a], DTYPES[b]) == np.result_type(DTYPES[a], DTYPES[b])


@pytest.mark.parametrize("backend", ["reference", "numba"])
@pytest.mark.parametrize("name", NEW)
def test_results_keep_their_dtype_on_both_backends(name, backend):
    dt = DTYPES[name]
    program = nj.compile(_net(dt), ["y"], feeds=["x"], backend=backend, tiered=False)
    x = np.arange(6).reshape(2, 3).astype(dt)
    y = program(x)
    y = y[0] if isinstance(y, (list, tuple)) else y
    assert y.dtype == dt
    np.testing.assert_array_equal(y, np.maximum(x + np.array([1, 2, 3], dtype=dt), 0))


def test_numba_refuses_the_new_dtypes_by_name():
    from netjit.backends.numba import NoLowering, _check_dtypes
    graph = _graph(_net(DTYPES["u8"]), DTYPES["u8"])
    with pytest.raises(NoLowering, match=r"u8\[.*\], a dtype it does not compile"):
        _check_dtypes(graph)


def test_tensor_type_prints_the_short_names():
    assert str(TensorType(np.uint16, (2, None))) == "u16[2,?]"
