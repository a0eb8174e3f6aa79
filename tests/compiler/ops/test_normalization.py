"""Normalizations and the Softmax family through the ONNX converters (opset differences)."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.normalization import GroupNormalization
from netjit.errors import UnimplementedError

from onnx_node import run_node

X = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)


def _coerced_softmax(x, axis):
    rows = x.reshape(int(np.prod(x.shape[:axis])), -1).astype(np.float64)
    e = np.exp(rows - rows.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).reshape(x.shape)


def test_softmax_before_opset_13_normalizes_everything_from_the_axis_on():
    (y,) = run_node("Softmax", {"x": X}, opset=11, axis=1)
    np.testing.assert_allclose(y, _coerced_softmax(X, 1), rtol=1e-5)
    (y,) = run_node("LogSoftmax", {"x": X}, opset=11)          # default axis 1
    np.testing.assert_allclose(y, np.log(_coerced_softmax(X, 1)), rtol=1e-5, atol=1e-6)


def test_softmax_before_opset_13_allows_one_unknown_leading_dim():
    (y,) = run_node("Hardmax", {"x": X}, opset=11, axis=1, shapes={"x": (None, 3, 4)})
    flat = X.reshape(2, 12)
    np.testing.assert_array_equal(y.reshape(2, 12), flat == flat.max(axis=1, keepdims=True))


def test_softmax_before_opset_13_with_unknown_inner_dims_is_unsupported():
    with pytest.raises(UnimplementedError, match="needs static dims from the axis on"):
        run_node("Softmax", {"x": X}, opset=11, axis=1, shapes={"x": (2, None, 4)})


def test_batchnorm_training_mode_normalizes_with_the_batch_statistics():
    c = np.ones(X.shape[1], np.float32)
    (y,) = run_node("BatchNormalization", {"x": X, "s": c, "b": c * 0, "m": c, "v": c}, training_mode=1)
    axes = (0,) + tuple(range(2, X.ndim))
    want = (X - X.mean(axes, keepdims=True)) / np.sqrt(X.var(axes, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-5)


def test_group_normalization_normalizes_each_group_over_its_channels():
    x = np.random.default_rng(3).standard_normal((1, 4, 3)).astype(np.float32)
    scale, bias = np.array([2.0, 3.0], np.float32), np.array([0.5, -1.0], np.float32)
    want = GroupNormalization(num_groups=2).reference(x, np.repeat(scale, 2), np.repeat(bias, 2))[0]
    g = x.reshape(1, 2, 6)
    z = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(want, z * np.repeat(scale, 2)[:, None] + np.repeat(bias, 2)[:, None], rtol=1e-5)


def test_layer_normalization_rejects_an_axis_out_of_range():
    from netjit.compiler.ops.normalization import LayerNormalization
    with pytest.raises(InferError, match="axis 3 is out of range"):
        LayerNormalization(axis=3).infer(TensorType(np.float32, (2, 3, 4)), TensorType(np.float32, (4,)))


def test_lp_normalization_of_a_zero_vector_is_zero():
    x = np.array([[0, 0], [3, 4]], np.float32)
    (y,) = run_node("LpNormalization", {"x": x}, p=2, axis=1)
    np.testing.assert_allclose(y, [[0, 0], [0.6, 0.8]], rtol=1e-6)
