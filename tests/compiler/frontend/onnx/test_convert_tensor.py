"""Converters of the tensor family at the older opsets the node cases do not cover, and what they emit."""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from netjit.compiler.frontend.onnx import load  # noqa: E402
from netjit.errors import UnimplementedError  # noqa: E402
from netjit.onnx import backend  # noqa: E402

F32, I64 = TensorProto.FLOAT, TensorProto.INT64


def _model(node, inputs, outputs, opset, initializers=()):
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                              [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
                              initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _run(model, *values):
    return backend.prepare(model, "CPU", backend="reference").run(list(values))


X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


@pytest.mark.parametrize("node, opset, expect", [
    (helper.make_node("Slice", ["x"], ["y"], starts=[1, -1], ends=[3, 0], axes=[1, 2]), 9, lambda x: x[:, 1:3, -1:0]),
    (helper.make_node("Pad", ["x"], ["y"], pads=[0, 1, 0, 0, 0, 1], mode="edge"), 7,
     lambda x: np.pad(x, [(0, 0), (1, 0), (0, 1)], mode="edge")),
    (helper.make_node("Squeeze", ["x"], ["y"], axes=[0]), 11, lambda x: x[:1].reshape(3, 4)),
    (helper.make_node("Unsqueeze", ["x"], ["y"], axes=[0, 4]), 11, lambda x: x[None, ..., None]),
    (helper.make_node("ReduceL1", ["x"], ["y"], axes=[-1], keepdims=0), 11, lambda x: np.abs(x).sum(-1)),
    (helper.make_node("ReduceSum", ["x"], ["y"], keepdims=1), 11, lambda x: x.sum(keepdims=True)),
    (helper.make_node("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0]), 7, lambda x: x.repeat(2, -1)),
])
def test_attribute_forms_of_older_opsets(node, opset, expect):
    x = X[:1] if node.op_type == "Squeeze" else X
    out_shape = expect(x).shape
    (got,) = _run(_model(node, [("x", F32, x.shape)], [("y", F32, out_shape)], opset), x)
    np.testing.assert_allclose(got, expect(x))


def test_top_k_with_k_as_an_attribute():
    node = helper.make_node("TopK", ["x"], ["v", "i"], k=2)
    model = _model(node, [("x", F32, (2, 3, 4))], [("v", F32, (2, 3, 2)), ("i", I64, (2, 3, 2))], 9)
    v, i = _run(model, X)
    np.testing.assert_array_equal(v, X[..., :1:-1])
    np.testing.assert_array_equal(i, np.broadcast_to([3, 2], (2, 3, 2)))


def test_split_into_uneven_parts_with_num_outputs():
    node = helper.make_node("Split", ["x"], ["a", "b", "c"], axis=2, num_outputs=3)
    model = _model(node, [("x", F32, (2, 3, 4))], [(n, F32, (2, 3, d)) for n, d in zip("abc", (2, 2, 0))], 18)
    a, b, c = _run(model, X)
    assert [a.shape[2], b.shape[2], c.shape[2]] == [2, 2, 0]


def test_constant_shape_gives_a_static_reshape_and_a_run_time_one_a_bound_reshape():
    node = helper.make_node("Reshape", ["x", "s"], ["y"])
    shape = helper.make_tensor("s", I64, [2], [6, -1])
    static = load(_model(node, [("x", F32, (2, 3, 4))], [("y", F32, (6, 4))], 14, [shape]))
    assert [op.op.name for op in static.ops] == ["Const", "Placeholder", "Reshape"]
    dynamic = load(_model(node, [("x", F32, (2, 3, 4)), ("s", I64, (2,))], [("y", F32, (6, 4))], 14))
    (op,) = [o.op for o in dynamic.ops if o.op.name != "Placeholder"]
    assert op.name == "FromInputs" and op.op.name == "Reshape" and op.rank == 2


def test_shape_of_a_static_input_folds_to_a_constant():
    node = helper.make_node("Shape", ["x"], ["y"], start=1)
    net = load(_model(node, [("x", F32, (2, 3, 4))], [("y", I64, (2,))], 15))
    assert [o.op.name for o in net.ops] == ["Placeholder", "Const"]


def test_resize_antialias_is_refused():
    node = helper.make_node("Resize", ["x", "", "s"], ["y"], mode="linear", antialias=1)
    scales = helper.make_tensor("s", F32, [3], [1.0, 0.5, 0.5])
    with pytest.raises(UnimplementedError, match="antialias"):
        load(_model(node, [("x", F32, (2, 4, 4))], [("y", F32, (2, 2, 2))], 18, [scales]))
