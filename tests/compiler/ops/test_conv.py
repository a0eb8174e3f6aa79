"""Conv and ConvTranspose: inference errors and the ONNX converter's geometry."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.conv import Conv, ConvTranspose
from netjit.errors import UnimplementedError

from onnx_node import run_node

F32 = np.float32


def test_conv_rejects_channels_that_do_not_fit_the_groups():
    with pytest.raises(InferError, match="X has 4 channels but W takes 3 per group x 1 groups"):
        Conv().infer(TensorType(F32, (1, 4, 5, 5)), TensorType(F32, (2, 3, 3, 3)))


def test_conv_rejects_a_window_larger_than_the_padded_input():
    with pytest.raises(InferError, match="does not fit an axis of 2"):
        Conv().infer(TensorType(F32, (1, 1, 2, 2)), TensorType(F32, (1, 1, 3, 3)))


def test_conv_transpose_checks_w_against_x():
    with pytest.raises(InferError, match="X has 3 channels but W is for 2"):
        ConvTranspose().infer(TensorType(F32, (1, 3, 4)), TensorType(F32, (2, 1, 3)))


def test_depthwise_same_lower_conv_matches_a_direct_loop():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 3, 5, 4)).astype(F32), rng.standard_normal((3, 1, 2, 3)).astype(F32)
    (y,) = run_node("Conv", {"x": x, "w": w}, group=3, auto_pad="SAME_LOWER", strides=[2, 1])
    pads = (1, 1, 0, 1)   # rows: 1 extra, at the begin (lower); cols: 2, one each side
    want = Conv(group=3, strides=(2, 1), pads=pads).reference(x, w)[0]
    assert y.shape == (1, 3, 3, 4)
    np.testing.assert_allclose(y, want, rtol=1e-5)
    for c in range(3):
        xp = np.pad(x[0, c], ((1, 0), (1, 1)))
        direct = [[(xp[i * 2:i * 2 + 2, j:j + 3] * w[c, 0]).sum() for j in range(4)] for i in range(3)]
        np.testing.assert_allclose(y[0, c], direct, rtol=1e-5)


def test_same_padding_with_unknown_spatial_sizes_is_unsupported():
    x, w = np.zeros((1, 1, 4, 4), F32), np.zeros((1, 1, 3, 3), F32)
    with pytest.raises(UnimplementedError, match="auto_pad=SAME_UPPER needs static spatial sizes"):
        run_node("Conv", {"x": x, "w": w}, auto_pad="SAME_UPPER", shapes={"x": (1, 1, None, None)})


def test_kernel_shape_that_contradicts_w_is_unsupported():
    x, w = np.zeros((1, 1, 4, 4), F32), np.zeros((1, 1, 3, 3), F32)
    with pytest.raises(UnimplementedError, match="kernel_shape"):
        run_node("Conv", {"x": x, "w": w}, kernel_shape=[2, 2])


def test_conv_transpose_output_shape_beyond_the_full_output_extends_it_with_zeros():
    x, w = np.ones((1, 1, 2), F32), np.ones((1, 1, 2), F32)
    (y,) = run_node("ConvTranspose", {"x": x, "w": w}, output_shape=[5])
    # full output [1, 2, 1]; total padding 3 - 5 = -2 splits as -1 / -1: one zero each side
    np.testing.assert_array_equal(y, [[[0, 1, 2, 1, 0]]])
