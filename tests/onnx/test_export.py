"""ONNX export: every node case netjit passes, imported and exported back, runs the same on
ONNX Runtime; and the exporter's own rules (SSA names, pruning, fused ops, errors)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import netjit as nj
from netjit.compiler import ops as O
from netjit.compiler.frontend.onnx.importer import input_types
from netjit.errors import InvalidArgumentError, UnimplementedError
from node_cases import assert_outputs_match, node_cases, supported
from exclusions import EXCLUDED

ort = pytest.importorskip("onnxruntime")
CASES = [c for c in node_cases() if supported(c) and c.name not in EXCLUDED]


def _ort_run(model: onnx.ModelProto, feeds: dict) -> list:
    try:
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except ort.capi.onnxruntime_pybind11_state.NotImplemented as exc:   # e.g. Max of int16
        pytest.skip(f"ONNX Runtime has no kernel: {str(exc).splitlines()[0][:200]}")
    return sess.run(None, {k: _array(v) for k, v in feeds.items()})


def _array(v) -> np.ndarray:
    """A case's input as an array (cases hold arrays, NumPy scalars or TensorProtos)."""
    return numpy_helper.to_array(v) if isinstance(v, onnx.TensorProto) else np.asarray(v)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_round_trip_through_onnxruntime(case):
    net = nj.onnx.load(case.model)
    types = input_types(case.model)
    outputs = [o.name for o in case.model.graph.output]
    try:
        model = nj.onnx.export(net, outputs, types)
    except UnimplementedError as exc:
        if "has no ONNX equivalent" not in str(exc):
            raise
        pytest.skip(f"no export row yet: {exc}")           # an op family's rows come with the family
    for inputs, expected in case.data_sets:
        got = _ort_run(model, dict(zip(types, inputs)))
        assert_outputs_match([_array(e) for e in expected], got, case.rtol, case.atol)


def _net():
    net = nj.Net("exp")
    x = net.Placeholder("x", np.float32, (None, 4))
    y = net.Relu(x, "y")
    net.Add([y, y], y)                     # y written twice: the first write becomes y~1
    net.Mul([y, net.Const(np.arange(4, dtype=np.int32))], "z")
    net.Exp(x, "unused")
    return net


def test_ssa_names_pruning_and_promotion():
    model = nj.onnx.export(_net(), ["z"], ["x"])
    ops = [n.op_type for n in model.graph.node]
    assert ops == ["Relu", "Add", "Cast", "Cast", "Mul"]      # Exp pruned; f32 * i32 computes in f64
    assert [n.output[0] for n in model.graph.node][:2] == ["y~1", "y"]
    x = np.random.rand(3, 4).astype(np.float32)
    want = nj.compile(_net(), ["z"], feeds=["x"], backend="reference")(x)
    want = want[0] if isinstance(want, (list, tuple)) else want
    np.testing.assert_allclose(_ort_run(model, {"x": x})[0], want, rtol=1e-6)


def test_fused_elementwise_exports_as_its_components():
    net = nj.Net("fused")
    a = net.Placeholder("a", np.float32, (3,))
    b = net.Placeholder("b", np.float32, (3,))
    fused = O.FusedElementwise(program=((O.Mul(), (0, 1)), (O.Tanh(), (2,))), n_inputs=2, outputs=(3,))
    net._add_op("FusedElementwise", [a, b], ["f"], {}, op=fused)
    model = nj.onnx.export(net, ["f"], ["a", "b"])
    assert [n.op_type for n in model.graph.node] == ["Mul", "Tanh", "Identity"]
    av, bv = np.random.rand(3).astype(np.float32), np.random.rand(3).astype(np.float32)
    np.testing.assert_allclose(_ort_run(model, {"a": av, "b": bv})[0], np.tanh(av * bv), rtol=1e-6)


def test_save_onnx_writes_a_checked_model(tmp_path):
    _net().save_onnx(tmp_path / "m.onnx", ["z"], {"x": np.zeros((2, 4), np.float32)})
    model = onnx.load(tmp_path / "m.onnx")
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["x"] and [o.name for o in model.graph.output] == ["z"]


def test_errors_name_the_op_and_blob():
    net = nj.Net("bad")
    x = net.Placeholder("x", np.float32, (2,))
    net.Print(x)
    v = net.Variable(np.zeros(2, np.float32), "v")
    net.Add([x, v], "s")
    with pytest.raises(UnimplementedError, match="Variable 'v' in net 'bad.*no ONNX equivalent"):
        nj.onnx.export(net, ["s"], ["x"])
    with pytest.raises(InvalidArgumentError, match="placeholder is needed but not fed"):
        nj.onnx.export(_net(), ["z"], [])
    with pytest.raises(InvalidArgumentError, match="'nope' cannot be computed"):
        nj.onnx.export(_net(), ["nope"], ["x"])
    with pytest.raises(UnimplementedError, match="not 11"):
        nj.onnx.export(_net(), ["z"], ["x"], opset=11)
