"""Importing ONNX's elementwise ops: which netjit ops each becomes, across opsets, and what is refused.

The node conformance suite checks values; these check the choices behind
them (TruncDiv for integer Div, a Cast after a mixed Pow, Clip's bounds as
attributes or inputs) and that what netjit cannot do exactly is an error.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from netjit.compiler.frontend.onnx import load
from netjit.compiler.frontend.onnx.importer import import_model
from netjit.errors import UnimplementedError
from netjit.onnx import backend

F32, F64, I32, I64, BOOL = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT32, TensorProto.INT64,
                            TensorProto.BOOL)


def model(op_type: str, inputs: dict, outputs: dict, opset: int, consts: dict = None, **attrs):
    """A one-node model: ``inputs``/``outputs`` map names to (elem type, shape); ``consts`` are initializers."""
    consts = consts or {}
    names = list(inputs) + [n for n in consts if n not in inputs]
    order = attrs.pop("input_order", names)
    node = helper.make_node(op_type, order, list(outputs), **attrs)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(n, *t) for n, t in inputs.items()],
        [helper.make_tensor_value_info(n, *t) for n, t in outputs.items()],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in consts.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def op_names(m) -> list[str]:
    return [d.op.name for d in load(m).ops if d.op.name not in ("Const", "Placeholder")]


def run(m, *values):
    return backend.prepare(m, "CPU", backend="reference").run(list(values))


def test_integer_div_truncates_and_float_div_divides():
    ints = model("Div", {"a": (I32, [4]), "b": (I32, [4])}, {"y": (I32, [4])}, 14)
    assert op_names(ints) == ["TruncDiv"]
    (y,) = run(ints, np.int32([-7, 7, -7, 7]), np.int32([2, 2, -2, -2]))
    np.testing.assert_array_equal(y, [-3, 3, 3, -3])
    assert op_names(model("Div", {"a": (F32, [2]), "b": (F32, [2])}, {"y": (F32, [2])}, 14)) == ["Div"]


def test_pow_has_the_dtype_of_its_base():
    mixed = model("Pow", {"x": (I64, [3]), "e": (F32, [3])}, {"y": (I64, [3])}, 15)
    assert op_names(mixed) == ["Pow", "Cast"]
    (y,) = run(mixed, np.int64([2, 3, 4]), np.float32([2, 0.5, 1.5]))
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [4, 1, 8])
    assert op_names(model("Pow", {"x": (F32, [3]), "e": (F32, [3])}, {"y": (F32, [3])}, 15)) == ["Pow"]


@pytest.mark.parametrize("opset, kwargs, consts", [
    (10, dict(min=-1.0, max=1.0), {}),
    (13, {}, {"lo": np.float32(-1), "hi": np.float32(1)}),
])
def test_clip_bounds_are_attributes_before_opset_11_and_inputs_after(opset, kwargs, consts):
    m = model("Clip", {"x": (F32, [4])}, {"y": (F32, [4])}, opset, consts, **kwargs)
    assert op_names(m) == ["Max", "Min"]
    (y,) = run(m, np.float32([-3, 0.5, 2, np.nan]))
    np.testing.assert_array_equal(y, [-1, 0.5, 1, np.nan])


def test_clip_with_only_a_maximum():
    m = model("Clip", {"x": (F32, [3])}, {"y": (F32, [3])}, 13, {"hi": np.float32(0)},
              input_order=["x", "", "hi"])
    assert op_names(m) == ["Min"]
    np.testing.assert_array_equal(run(m, np.float32([-2, 0, 2]))[0], [-2, 0, 0])


def test_mean_sums_then_divides_once():
    m = model("Mean", {"a": (F32, [2]), "b": (F32, [2]), "c": (F32, [1])}, {"y": (F32, [2])}, 13)
    assert op_names(m) == ["Sum", "Div"]
    np.testing.assert_allclose(run(m, np.float32([1, 2]), np.float32([3, 4]), np.float32([5]))[0], [3, 11 / 3])


def test_dropout_in_inference_is_the_identity_with_an_all_true_mask():
    m = model("Dropout", {"x": (F32, [None, 2])}, {"y": (F32, [None, 2]), "mask": (BOOL, [None, 2])}, 13)
    x = np.float32([[1, np.nan], [3, 0]])
    y, mask = run(m, x)
    np.testing.assert_array_equal(y, x)
    assert mask.dtype == np.bool_ and mask.shape == (2, 2) and mask.all()
    old = model("Dropout", {"x": (F32, [2])}, {"y": (F32, [2]), "mask": (F32, [2])}, 7, ratio=0.3)
    np.testing.assert_array_equal(run(old, np.float32([5, 6]))[1], [1, 1])


def test_dropout_in_training_mode_is_refused_unless_its_ratio_is_zero():
    inputs = {"x": (F32, [2])}
    training = model("Dropout", inputs, {"y": (F32, [2])}, 13, {"r": np.float32(0.5), "t": np.bool_(True)})
    with pytest.raises(UnimplementedError, match="training_mode=true with a nonzero ratio"):
        load(training)
    # a training_mode fed at run time is checked when the op runs
    fed = model("Dropout", {"x": (F32, [2]), "r": (F32, []), "t": (BOOL, [])}, {"y": (F32, [2])}, 13)
    x = np.float32([1, 2])
    np.testing.assert_array_equal(run(fed, x, np.float32(0.5), np.bool_(False))[0], [1, 2])
    np.testing.assert_array_equal(run(fed, x, np.float32(0.0), np.bool_(True))[0], [1, 2])
    with pytest.raises(UnimplementedError, match="random mask"):
        run(fed, x, np.float32(0.5), np.bool_(True))
    zero = model("Dropout", inputs, {"y": (F32, [2])}, 13, {"r": np.float32(0), "t": np.bool_(True)})
    np.testing.assert_array_equal(run(zero, np.float32([1, 2]))[0], [1, 2])


def test_casts_to_types_netjit_lacks_are_refused_with_the_type_named():
    for to in (TensorProto.STRING, TensorProto.BFLOAT16, TensorProto.FLOAT8E4M3FN):
        m = model("Cast", {"x": (F32, [2])}, {"y": (to, [2])}, 19, to=to)
        with pytest.raises(UnimplementedError, match=r"Cast, opset 19\): target type 'to': element type"):
            load(m)


def test_cast_like_takes_the_dtype_of_its_second_input():
    m = model("CastLike", {"x": (F64, [3]), "like": (I32, [1])}, {"y": (I32, [3])}, 15)
    (y,) = run(m, np.float64([-1.7, 0.2, 2.9]), np.int32([0]))
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, [-1, 0, 2])


def test_unknown_attributes_are_refused():
    """onnx.checker refuses them first; the importer does not rely on it."""
    m = model("Elu", {"x": (F32, [2])}, {"y": (F32, [2])}, 13, alpha=0.5)
    m.graph.node[0].attribute.append(helper.make_attribute("beta", 2.0))
    with pytest.raises(UnimplementedError, match=r"attributes \['beta'\] are not supported"):
        import_model(m)


def test_comparisons_and_logic_map_onto_netjit_ops():
    cases = {"Equal": "EQ", "Less": "LT", "Greater": "GT", "LessOrEqual": "LE", "GreaterOrEqual": "GE"}
    for onnx_op, ours in cases.items():
        m = model(onnx_op, {"a": (I64, [2]), "b": (I64, [1])}, {"y": (BOOL, [2])}, 16)
        assert op_names(m) == [ours]
    m = model("Xor", {"a": (BOOL, [2]), "b": (BOOL, [2])}, {"y": (BOOL, [2])}, 7)
    np.testing.assert_array_equal(run(m, np.array([True, False]), np.array([True, True]))[0], [False, True])


def test_activation_attributes_become_op_fields():
    m = model("LeakyRelu", {"x": (F32, [2])}, {"y": (F32, [2])}, 16, alpha=0.25)
    assert [repr(d.op) for d in load(m).ops][-1] == "LeakyRelu(alpha=0.25)"
    np.testing.assert_array_equal(run(m, np.float32([-4, 4]))[0], [-1, 4])
    onnx.checker.check_model(m)
