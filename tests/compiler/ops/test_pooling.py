"""Pools: ceil_mode windows, Indices, global pools and their errors."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.pooling import AveragePool, MaxPool
from netjit.errors import UnimplementedError

from onnx_node import run_node


def test_pool_rejects_a_kernel_of_another_rank():
    with pytest.raises(InferError, match=r"kernel_shape \(2, 2\) needs X of rank 4"):
        MaxPool(kernel_shape=(2, 2)).infer(TensorType(np.float32, (1, 1, 4)))


def test_ceil_mode_drops_a_window_that_would_start_in_the_end_padding():
    # 5 + 1 pad, kernel 2, stride 2: ceil gives 3 windows; a 4th would start in the pad
    (t,) = AveragePool(kernel_shape=(2,), strides=(2,), pads=(0, 1), ceil_mode=True).infer(
        TensorType(np.float32, (1, 1, 5)))
    assert t.shape == (1, 1, 3)


def test_count_include_pad_counts_pads_but_not_the_ceil_overhang():
    x = np.arange(1, 6, dtype=np.float32).reshape(1, 1, 5)
    op = AveragePool(kernel_shape=(3,), strides=(2,), pads=(1, 0), ceil_mode=True, count_include_pad=True)
    # windows [pad,1,2] -> 3/3, [2,3,4] -> 9/3, [4,5,overhang] -> 9/2
    np.testing.assert_allclose(op.reference(x)[0], [[[1.0, 3.0, 4.5]]])


def test_maxpool_indices_through_onnx():
    x = np.array([[[[1, 5, 2], [7, 3, 9]]]], np.float32)
    y, i = run_node("MaxPool", {"x": x}, n_outputs=2, out_dtypes=(np.float32, np.int64), kernel_shape=[2, 2])
    np.testing.assert_array_equal(y, [[[[7, 9]]]])
    np.testing.assert_array_equal(i, [[[[3, 5]]]])
    _, i = run_node("MaxPool", {"x": x}, n_outputs=2, out_dtypes=(np.float32, np.int64), kernel_shape=[2, 2],
                    storage_order=1)
    np.testing.assert_array_equal(i, [[[[1, 5]]]])


def test_global_lp_pool_is_the_norm_over_space():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(np.float32)
    (y,) = run_node("GlobalLpPool", {"x": x}, p=3)
    np.testing.assert_allclose(y[..., 0, 0], (np.abs(x) ** 3).sum(axis=(2, 3)) ** (1 / 3), rtol=1e-5)


def test_global_lp_pool_with_unknown_spatial_sizes_is_unsupported():
    with pytest.raises(UnimplementedError, match="GlobalLpPool needs static spatial sizes"):
        run_node("GlobalLpPool", {"x": np.zeros((1, 1, 2, 2), np.float32)}, shapes={"x": (1, 1, None, 2)})
