"""Recent ONNX ops beyond their registry samples: Unique's data-dependent outputs, run-time
parameters, refusals and errors."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.modern_image import Col2Im, MaxUnpool
from netjit.compiler.ops.modern_nn import CausalConvWithState, RotaryEmbedding, SwiGLU
from netjit.compiler.ops.modern_tensor import BitCast, CenterCropPad, CumProd, Unique
from netjit.errors import NetjitError, UnimplementedError
from onnx_node import run_node


def test_unique_flattened_in_first_occurrence_order():
    y, first, inverse, counts = Unique(sorted=False).reference(np.array([2, 1, 1, 3, 4, 3], np.int64))
    np.testing.assert_array_equal(y, [2, 1, 3, 4])
    np.testing.assert_array_equal(first, [0, 1, 3, 4])
    np.testing.assert_array_equal(inverse, [0, 1, 1, 2, 3, 2])
    np.testing.assert_array_equal(counts, [1, 2, 2, 1])


def test_unique_slices_sort_lexicographically():
    x = np.array([[[1., 1.], [0., 1.], [2., 1.], [0., 1.]]] * 2, np.float32)
    y, first, inverse, counts = Unique(axis=1).reference(x)
    np.testing.assert_array_equal(y, [[[0, 1], [1, 1], [2, 1]]] * 2)
    np.testing.assert_array_equal(first, [1, 0, 2])
    np.testing.assert_array_equal(inverse, [1, 0, 2, 0])
    np.testing.assert_array_equal(counts, [2, 1, 1])
    types = Unique(axis=1).infer(TensorType.of(x))
    assert types[0] == TensorType(np.float32, (2, None, 2)) and types[2] == TensorType(np.int64, (4,))
    assert all(t.accepts(TensorType.of(v)) for t, v in zip(types, (y, first, inverse, counts)))


def test_bitcast_refuses_a_different_width():
    with pytest.raises(InferError):
        BitCast(np.dtype(np.int64)).infer(TensorType(np.float32, (2,)))
    (y,) = BitCast(np.dtype(np.float32)).reference(np.array(0x40490FDB, np.int32))
    assert y.shape == () and abs(float(y) - np.pi) < 1e-6


def test_center_crop_pad_puts_the_odd_pixel_after():
    (y,) = CenterCropPad((4,)).reference(np.array([1, 2, 3], np.int32))     # pad 1: after
    np.testing.assert_array_equal(y, [1, 2, 3, 0])
    (y,) = CenterCropPad((2,)).reference(np.array([1, 2, 3, 4, 5], np.int32))  # crop 3: start at 1
    np.testing.assert_array_equal(y, [2, 3])


def test_cumprod_axis_bound_at_run_time():
    x = np.array([[1, 2], [3, 4]], np.int32)
    (y,) = run_node("CumProd", {"x": x, "axis": np.array(0, np.int64)}, opset=26, exclusive=1)
    np.testing.assert_array_equal(y, [[1, 1], [1, 2]])
    assert CumProd(1, reverse=True).reference(x)[0].tolist() == [[2, 2], [12, 4]]


def test_causal_conv_state_of_a_short_input_keeps_past_steps():
    x, w = np.ones((1, 1, 1), np.float32), np.ones((1, 1, 3), np.float32)
    past = np.array([[[5., 7.]]], np.float32)
    y, state = CausalConvWithState(past=True).reference(x, w, past)
    np.testing.assert_array_equal(y, [[[13.]]])
    np.testing.assert_array_equal(state, [[[7., 1.]]])


def test_swiglu_does_not_broadcast():
    with pytest.raises(InferError):
        SwiGLU().infer(TensorType(np.float32, (2, 3)), TensorType(np.float32, (3,)))


def test_causal_conv_refuses_an_unknown_activation():
    x, w = np.ones((1, 1, 4), np.float32), np.ones((1, 1, 2), np.float32)
    with pytest.raises(NetjitError, match="activation"):
        run_node("CausalConvWithState", {"x": x, "w": w}, n_outputs=2, opset=27, activation="gelu")


def test_maxunpool_refuses_an_output_shape_other_than_the_unpooled_one():
    x, i = np.float32([[[[5, 6], [7, 8]]]]), np.int64([[[[5, 7], [13, 15]]]])
    (y,) = MaxUnpool((2, 2), strides=(2, 2), output_shape=(1, 1, 4, 4)).reference(x, i)
    assert y.shape == (1, 1, 4, 4) and y[0, 0, 1, 1] == 5 and y.sum() == 26
    with pytest.raises(UnimplementedError, match="ambiguous"):
        MaxUnpool((2, 2), strides=(2, 2), output_shape=(1, 1, 5, 5)).reference(x, i)


def test_col2im_shapes_bound_at_run_time():
    x = np.ones((1, 4, 4), np.float32)      # 2x2 blocks over a 3x3 image: the centre is in all four
    (y,) = run_node("Col2Im", {"x": x, "image": np.int64([3, 3]), "block": np.int64([2, 2])}, opset=18)
    np.testing.assert_array_equal(y[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    with pytest.raises(InferError):
        Col2Im((3, 3), (2,)).infer(TensorType.of(x))


def test_unique_refuses_nan_and_rotary_refuses_positions_outside_the_cache():
    with pytest.raises(UnimplementedError, match="NaN"):
        Unique().reference(np.float32([1, np.nan, np.nan]))
    x, cache = np.zeros((1, 1, 2, 4), np.float32), np.zeros((3, 2), np.float32)
    with pytest.raises(NetjitError, match="position_ids"):
        RotaryEmbedding().reference(x, cache, cache, np.int64([[0, -1]]))
