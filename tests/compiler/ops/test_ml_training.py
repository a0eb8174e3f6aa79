"""The ops of other ONNX domains and of deterministic training modes, and their import."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from netjit.compiler.frontend.onnx.converters import converter_for
from netjit.compiler.frontend.onnx.importer import import_model
from netjit.compiler.ops import ml, training
from netjit.errors import UnimplementedError

TRAINING = "ai.onnx.preview.training"


def _model(node, inputs, outputs, opsets):
    graph = helper.make_graph([node], "g", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])


def test_converters_are_looked_up_by_domain():
    assert converter_for("Adam", 1, TRAINING) is not None
    assert converter_for("Adam", 1) is None                      # not in the default domain
    assert converter_for("TreeEnsemble", 4, "ai.onnx.ml") is None   # TreeEnsemble is ai.onnx.ml opset 5
    assert converter_for("Relu", 14, "ai.onnx") is converter_for("Relu", 14)


def test_a_domain_without_converters_is_refused_by_name():
    node = helper.make_node("Foo", ["x"], ["y"], domain="com.example")
    m = _model(node, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], [("", 18), ("com.example", 1)])
    with pytest.raises(UnimplementedError, match="domain 'com.example'"):
        import_model(m)


def test_adam_of_a_model_importing_only_its_domain():
    node = helper.make_node("Adam", ["R", "T", "X", "G", "V", "H"], ["X2", "V2", "H2"], domain=TRAINING,
                            alpha=0.9, beta=0.99)
    f = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)  # noqa: E731
    m = _model(node, [f("R", []), helper.make_tensor_value_info("T", TensorProto.INT64, []),
                      f("X", [3]), f("G", [3]), f("V", [3]), f("H", [3])],
               [f("X2", [3]), f("V2", [3]), f("H2", [3])], [(TRAINING, 1)])
    net = import_model(m)
    assert [net.blob_type(b).shape for b in ("X2", "V2", "H2")] == [(3,)] * 3


def test_dropout_training_raises_at_run_time_for_a_nonzero_ratio():
    x = np.ones((2, 3), np.float32)
    y, mask = training.DropoutTraining().reference(x, np.float32(0.0), np.bool_(True))
    np.testing.assert_array_equal(y, x)
    assert mask.dtype == bool and mask.all()
    with pytest.raises(UnimplementedError, match="random mask"):
        training.DropoutTraining().reference(x, np.float32(0.5), np.bool_(True))


def test_batchnorm_training_matches_the_onnx_formula():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 4)).astype(np.float32)
    s, b = np.array([1.0, 2.0], np.float32), np.array([0.5, -1.0], np.float32)
    mean, var = np.array([0.1, 0.2], np.float32), np.array([1.0, 2.0], np.float32)
    y, rm, rv = training.BatchNormalizationTraining(epsilon=1e-2, momentum=0.7).reference(x, s, b, mean, var)
    bm, bv = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    want = (x - bm[None, :, None]) / np.sqrt(bv[None, :, None] + 1e-2) * s[None, :, None] + b[None, :, None]
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rm, mean * 0.7 + bm * 0.3, rtol=1e-6)
    np.testing.assert_allclose(rv, var * 0.7 + bv * 0.3, rtol=1e-6)


def _ml_model(node, x_type=TensorProto.FLOAT, y_type=TensorProto.FLOAT, version=5):
    return _model(node, [helper.make_tensor_value_info("X", x_type, [2, 1])],
                  [helper.make_tensor_value_info("Y", y_type, None)], [("", 18), ("ai.onnx.ml", version)])


def test_string_label_encoders_are_refused_and_numeric_ones_run():
    node = helper.make_node("LabelEncoder", ["X"], ["Y"], domain="ai.onnx.ml", keys_strings=["a"],
                            values_int64s=[1])
    with pytest.raises(UnimplementedError):
        import_model(_ml_model(node, TensorProto.STRING, TensorProto.INT64, 4))
    node = helper.make_node("LabelEncoder", ["X"], ["Y"], domain="ai.onnx.ml", keys_int64s=[1, 2],
                            values_floats=[0.5, 1.5], default_float=-1.0)
    import_model(_ml_model(node, TensorProto.INT64, TensorProto.FLOAT, 4))
    op = ml.LabelEncoder(keys=(1, 2), values=(0.5, 1.5), default=-1.0, dtype=np.dtype(np.float32))
    np.testing.assert_array_equal(op.reference(np.array([2, 7, 1]))[0], np.array([1.5, -1.0, 0.5], np.float32))


def test_tree_ensemble_post_transforms_are_refused():
    node = helper.make_node(
        "TreeEnsemble", ["X"], ["Y"], domain="ai.onnx.ml", aggregate_function=1, post_transform=2, n_targets=1,
        nodes_modes=helper.make_tensor("m", TensorProto.UINT8, [1], [0]), nodes_featureids=[0],
        nodes_splits=helper.make_tensor("s", TensorProto.FLOAT, [1], [0.0]), nodes_truenodeids=[0],
        nodes_falsenodeids=[1], nodes_trueleafs=[1], nodes_falseleafs=[1], leaf_targetids=[0, 0],
        leaf_weights=helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0]), tree_roots=[0])
    with pytest.raises(UnimplementedError, match="post_transform"):
        import_model(_ml_model(node))


def test_array_feature_extractor_refuses_out_of_range_indices():
    with pytest.raises(Exception, match="out of range"):
        ml.ArrayFeatureExtractor().reference(np.zeros((2, 3), np.float32), np.array([3]))
