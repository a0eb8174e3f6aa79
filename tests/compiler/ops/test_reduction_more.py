"""ReduceAxes (axes known at run time) and the empty-set values of ONNX's reductions."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.reduction_more import ReduceAxes, ReduceLogSumExp, ReduceProd


def test_reduce_axes_binds_the_axes_at_run_time():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    (got,) = ReduceAxes("ReduceSum", keepdims=False).reference(x, np.array([0, -1], np.int64))
    np.testing.assert_array_equal(got, x.sum(axis=(0, 2)))
    (prod,) = ReduceAxes("ReduceProd").reference(x + 1, np.array([1], np.int64))
    np.testing.assert_allclose(prod, np.prod(x + 1, axis=1, keepdims=True))


def test_empty_axes_reduce_all_or_nothing():
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    empty = np.zeros(0, np.int64)
    (all_,) = ReduceAxes("ReduceMax").reference(x, empty)
    np.testing.assert_array_equal(all_, [[5.0]])
    (same,) = ReduceAxes("ReduceMax", noop_with_empty_axes=True).reference(x, empty)
    np.testing.assert_array_equal(same, x)


def test_reduce_axes_infers_the_rank_when_the_axes_count_is_known():
    x, axes = TensorType(np.float32, (2, 3, 4)), TensorType(np.int64, (2,))
    assert ReduceAxes("ReduceL2", keepdims=False).infer(x, axes) == (TensorType(np.float32, (None,)),)
    assert ReduceAxes("ReduceL2").infer(x, axes) == (TensorType(np.float32, (None, None, None)),)
    assert ReduceAxes("ReduceMean").infer(TensorType(np.int32, (2,)), axes)[0].dtype == np.float64
    no_axes = TensorType(np.int64, (0,))
    assert ReduceAxes("ReduceSum", noop_with_empty_axes=True).infer(x, no_axes) == (x,)
    assert ReduceAxes("ReduceSum", keepdims=False).infer(x, no_axes) == (TensorType(np.float32, ()),)
    with pytest.raises(InferError, match="not a reduction"):
        ReduceAxes("Add")


def test_empty_set_values_are_onnxs():
    x = np.zeros((2, 0), np.float32)
    np.testing.assert_array_equal(ReduceProd(axes=(1,)).reference(x)[0], [[1], [1]])
    np.testing.assert_array_equal(ReduceLogSumExp(axes=(1,), keepdims=False).reference(x)[0], [-np.inf, -np.inf])


def test_log_sum_exp_is_stable_for_large_values():
    x = np.float32([[1000, 1000], [-np.inf, -np.inf]])
    (got,) = ReduceLogSumExp(axes=(1,), keepdims=False).reference(x)
    np.testing.assert_allclose(got, [1000 + np.log(2), -np.inf])
