"""Indexing ops beyond their registry samples: data-dependent shapes, negative and bad indices."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import TensorType
from netjit.compiler.ops.indexing import Compress, Gather, GatherND, NonZero, OneHot, ScatterElements, ScatterND


def test_nonzero_lists_indices_axis_by_axis():
    x = np.array([[0, 2, 0], [3, 0, 4]], np.int32)
    (got,) = NonZero().reference(x)
    np.testing.assert_array_equal(got, [[0, 1, 1], [1, 0, 2]])
    assert got.dtype == np.int64
    assert NonZero().infer(TensorType.of(x)) == (TensorType(np.int64, (2, None)),)
    assert NonZero().infer(TensorType(np.float32, None))[0].shape == (None, None)


def test_compress_along_an_axis_and_flattened():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    cond = np.array([True, False, True])
    (got,) = Compress(0).reference(x, cond)
    np.testing.assert_array_equal(got, [[0, 1], [4, 5]])
    (flat,) = Compress().reference(x, np.array([False, True]))   # shorter than the input: the rest is dropped
    np.testing.assert_array_equal(flat, [1])
    assert Compress(-1).infer(TensorType.of(x), TensorType.of(cond)) == (TensorType(np.float32, (3, None)),)
    assert Compress().infer(TensorType.of(x), TensorType.of(cond)) == (TensorType(np.float32, (None,)),)


def test_out_of_range_indices_raise_instead_of_clamping():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(IndexError):
        Gather(1).reference(x, np.array([3], np.int64))
    with pytest.raises(IndexError):
        ScatterElements(0).reference(x, np.array([[-3]], np.int64), np.ones((1, 1), np.float32))


def test_scatter_reductions_combine_duplicates():
    x = np.full(3, 5.0, np.float32)
    idx, up = np.array([1, 1, 2], np.int64), np.float32([7, 2, 1])
    for reduction, want in [("add", [5, 14, 6]), ("mul", [5, 70, 5]), ("max", [5, 7, 5]), ("min", [5, 2, 1])]:
        (got,) = ScatterElements(0, reduction).reference(x, idx, up)
        np.testing.assert_array_equal(got, want, err_msg=reduction)
        (nd,) = ScatterND(reduction).reference(x, idx[:, None], up)
        np.testing.assert_array_equal(nd, want, err_msg=reduction)


def test_gather_nd_with_batch_dims_picks_per_batch():
    x = np.arange(12).reshape(2, 3, 2)
    idx = np.array([[[2, 1]], [[0, 0]]], np.int64)
    (got,) = GatherND(1).reference(x, idx)
    np.testing.assert_array_equal(got, [[x[0, 2, 1]], [x[1, 0, 0]]])


def test_one_hot_float_indices_and_the_middle_axis():
    (got,) = OneHot(4, 1).reference(np.float32([[1, -1]]), np.int64([0, 9]))
    np.testing.assert_array_equal(got, [[[0, 0], [9, 0], [0, 0], [0, 9]]])
