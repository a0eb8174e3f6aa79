"""FromInputs (attributes bound at run time) and ReshapeAllowZero, beyond their registry samples."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler import ops as O
from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.from_inputs import FromInputs
from netjit.compiler.ops.ordering import TopK
from netjit.compiler.ops.generators import Range
from netjit.compiler.ops.tensor import Tile
from netjit.compiler.ops.tensor_layout import ReshapeAllowZero


def test_from_inputs_binds_fields_and_runs_the_inner_op():
    x = np.arange(6, dtype=np.float32)
    op = FromInputs(O.Reshape(), ("shape",), rank=2)
    (got,) = op.reference(x, np.array([3, -1], np.int64))
    np.testing.assert_array_equal(got, x.reshape(3, 2))
    assert op.infer(TensorType.of(x), TensorType(np.int64, (2,))) == (TensorType(np.float32, (None, None)),)


def test_from_inputs_converts_by_field_type():
    x = np.arange(10, dtype=np.int32)
    sliced = FromInputs(O.Slice(), ("starts", "ends", "steps"))
    (got,) = sliced.reference(x, np.int64([8]), np.int64([-100]), np.int64([-3]))
    np.testing.assert_array_equal(got, [8, 5, 2])
    top = FromInputs(TopK(), ("k",), rank=1)     # k is an int field: a one-element tensor becomes an int
    values, indices = top.reference(np.float32([1, 3, 2]), np.int64([2]))
    np.testing.assert_array_equal(values, [3, 2])
    np.testing.assert_array_equal(indices, [1, 2])
    assert top.num_outputs == 2
    (r,) = FromInputs(Range(dtype=np.dtype(np.float32)), ("start", "limit", "delta")).reference(
        np.float32(1), np.float32(2), np.float32(0.25))
    np.testing.assert_allclose(r, [1, 1.25, 1.5, 1.75])
    assert r.dtype == np.float32


def test_from_inputs_checks_names_and_arity():
    with pytest.raises(InferError, match="has no field 'shape'"):
        FromInputs(Tile(), ("shape",))
    with pytest.raises(InferError):
        FromInputs(Tile(), ("repeats",)).check_arity(1)
    with pytest.raises(ValueError, match="one value"):
        FromInputs(TopK(), ("k",)).reference(np.float32([1, 2]), np.int64([1, 2]))


def test_reshape_allow_zero_keeps_zero_dims():
    (got,) = ReshapeAllowZero((0, 4)).reference(np.zeros((2, 0), np.float32))
    assert got.shape == (0, 4)
    with pytest.raises(InferError, match="ambiguous"):
        ReshapeAllowZero((0, -1))
    assert ReshapeAllowZero((0, 4)).infer(TensorType(np.float32, (None, 0))) == (TensorType(np.float32, (0, 4)),)
