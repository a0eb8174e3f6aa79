"""Quantization through the ONNX converters: output dtypes, per-axis and blocked parameters, the QLinear ops."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.quantize import QuantizeLinear
from netjit.errors import UnimplementedError

from onnx_node import run_node

X = np.array([[-3.5, -0.5, 0.5, 1.5], [2.5, 300.0, -300.0, 7.0]], np.float32)


def test_quantize_output_dtype_without_zero_point_rounds_half_to_even_and_saturates():
    (y,) = run_node("QuantizeLinear", {"x": X, "s": np.float32(1.0)}, opset=21, out_dtypes=(np.int8,),
                    output_dtype=TensorProto.INT8)
    np.testing.assert_array_equal(y, np.array([[-4, 0, 0, 2], [2, 127, -128, 7]], np.int8))


def test_quantize_blocked_uses_one_scale_per_block():
    s = np.array([[1.0, 10.0], [2.0, 100.0]], np.float32)
    (y,) = run_node("QuantizeLinear", {"x": X, "s": s, "z": np.zeros((2, 2), np.int16)}, opset=21,
                    out_dtypes=(np.int16,), axis=1, block_size=2)
    want = np.rint(X / np.repeat(s, 2, axis=1)).astype(np.int16)
    np.testing.assert_array_equal(y, want)


def test_quantize_to_float8_is_refused():
    with pytest.raises(UnimplementedError, match="FLOAT8E4M3FN"):
        run_node("QuantizeLinear", {"x": X, "s": np.float32(1.0)}, opset=21, output_dtype=TensorProto.FLOAT8E4M3FN)


def test_dequantize_per_axis_and_output_dtype():
    x = np.array([[0, 255], [10, 20]], np.uint8)
    (y,) = run_node("DequantizeLinear", {"x": x, "s": np.array([0.5, 2.0], np.float32),
                                         "z": np.array([1, 10], np.uint8)}, opset=23, axis=0,
                    out_dtypes=(np.float16,), output_dtype=TensorProto.FLOAT16)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, np.array([[-0.5, 127.0], [0.0, 20.0]], np.float16))


def test_qlinear_matmul_per_row_and_per_column_parameters():
    a, b = np.array([[1, 200], [3, 4]], np.uint8), np.array([[5, 6, 7], [8, 9, 250]], np.uint8)
    a_s, a_z = np.array([0.1, 0.2], np.float32), np.array([2, 3], np.uint8)
    b_s, b_z = np.array([0.3, 0.05, 0.01], np.float32), np.array([1, 0, 4], np.uint8)
    y_s, y_z = np.float32(0.5), np.uint8(7)
    (y,) = run_node("QLinearMatMul", {"a": a, "as": a_s, "az": a_z, "b": b, "bs": b_s, "bz": b_z,
                                      "ys": y_s, "yz": y_z}, opset=21)
    acc = (a.astype(np.int64) - a_z[:, None]) @ (b.astype(np.int64) - b_z)
    want = np.clip(np.rint(acc * (a_s[:, None] * b_s / y_s).astype(np.float64) + 7), 0, 255)
    np.testing.assert_array_equal(y, want.astype(np.uint8))


def _conv2d(x, w):
    n, m, h, wd = x.shape[0], w.shape[0], x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1
    y = np.zeros((n, m, h, wd), np.int64)
    for i, j, r, c in np.ndindex(n, m, h, wd):
        y[i, j, r, c] = (x[i, :, r:r + w.shape[2], c:c + w.shape[3]] * w[j]).sum()
    return y


def test_conv_integer_with_a_per_channel_weight_zero_point():
    x = np.arange(18, dtype=np.uint8).reshape(1, 2, 3, 3)
    w = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], np.uint8).reshape(2, 2, 2, 2)
    (y,) = run_node("ConvInteger", {"x": x, "w": w, "xz": np.uint8(3), "wz": np.array([1, 2], np.uint8)},
                    opset=10, out_dtypes=(np.int32,))
    want = _conv2d(x.astype(np.int64) - 3, w.astype(np.int64) - np.array([1, 2]).reshape(2, 1, 1, 1))
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, want)


def test_qlinear_conv_with_per_channel_scale_and_bias():
    x = np.arange(18, dtype=np.int8).reshape(1, 2, 3, 3)
    w = np.arange(-8, 8, dtype=np.int8).reshape(2, 2, 2, 2)
    ws, b = np.array([0.5, 0.25], np.float32), np.array([10, -20], np.int32)
    (y,) = run_node("QLinearConv", {"x": x, "xs": np.float32(0.1), "xz": np.int8(1), "w": w, "ws": ws,
                                    "wz": np.int8(0), "ys": np.float32(0.2), "yz": np.int8(-5), "b": b}, opset=10)
    acc = _conv2d(x.astype(np.int64) - 1, w.astype(np.int64)) + b.reshape(1, 2, 1, 1)
    mult = (np.float32(0.1) * ws / np.float32(0.2)).astype(np.float64).reshape(1, 2, 1, 1)
    want = np.clip(np.rint(acc * mult - 5), -128, 127).astype(np.int8)
    np.testing.assert_array_equal(y, want)


def test_quantize_infer_rejects_a_scale_that_fits_no_granularity():
    with pytest.raises(InferError, match="fits neither"):
        QuantizeLinear(axis=1).infer(TensorType(np.float32, (2, 4)), TensorType(np.float32, (3,)))


def test_quantize_saturates_infinities():
    x = np.array([np.inf, -np.inf, 1e30], np.float32)
    (y,) = QuantizeLinear(dtype=np.dtype(np.int8)).reference(x, np.asarray(np.float32(0.5)))
    np.testing.assert_array_equal(y, np.array([127, -128, 127], np.int8))


def test_qlinear_matmul_with_a_per_row_output_scale_is_unsupported():
    a, b = np.ones((2, 2), np.uint8), np.ones((2, 3), np.uint8)
    with pytest.raises(UnimplementedError, match="per-row or per-channel output"):
        run_node("QLinearMatMul", {"a": a, "as": np.float32(1), "az": np.uint8(0), "b": b, "bs": np.float32(1),
                                   "bz": np.uint8(0), "ys": np.array([1, 2], np.float32), "yz": np.uint8(0)},
                 opset=21)
