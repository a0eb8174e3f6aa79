"""Vision ops: NonMaxSuppression (value-dependent output), GridSample paddings, converters' refusals."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops.vision import DeformConv, GridSample, reflect
from netjit.compiler.ops.vision_boxes import NonMaxSuppression
from netjit.errors import UnimplementedError

from onnx_node import run_node

BOXES = np.array([[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3], [1, 1, 0, 0]]], np.float32)   # 1 batch, 4 boxes
SCORES = np.array([[[0.9, 0.8, 0.7, 0.6], [0.1, 0.2, 0.3, 0.4]]], np.float32)                 # 2 classes


def test_nms_keeps_boxes_by_score_and_drops_overlaps_per_class():
    (got,) = NonMaxSuppression().reference(BOXES, SCORES, np.array([3]), np.array([0.5]), np.array([0.25]))
    # class 0: box 0 kept, box 1 overlaps it (IoU 0.82), box 2 kept, box 3 (flipped box 0) overlaps it
    # class 1: scores above 0.25 are boxes 3 and 2; box 3 kept, box 2 kept (no overlap)
    np.testing.assert_array_equal(got, [[0, 0, 0], [0, 0, 2], [0, 1, 3], [0, 1, 2]])


def test_nms_without_max_output_selects_nothing():
    (got,) = NonMaxSuppression().reference(BOXES, SCORES)
    assert got.shape == (0, 3) and got.dtype == np.int64


def test_nms_through_onnx_with_center_point_boxes():
    boxes = np.array([[[0.5, 0.5, 1, 1], [0.5, 0.6, 1, 1], [5, 5, 1, 1]]], np.float32)
    scores = np.array([[[0.5, 0.9, 0.7]]], np.float32)
    (got,) = run_node("NonMaxSuppression", {"b": boxes, "s": scores, "m": np.array([10], np.int64),
                                            "i": np.array([0.5], np.float32)}, opset=11, out_dtypes=(np.int64,),
                        center_point_box=1)
    np.testing.assert_array_equal(got, [[0, 0, 1], [0, 0, 2]])


def test_reflect_bounces_between_the_bounds():
    np.testing.assert_allclose(reflect(np.array([-1.0, 4.5, 7.0, 2.0]), 0.0, 3.0), [1.0, 1.5, 1.0, 2.0])


def test_grid_sample_zeros_padding_reads_zero_outside_and_border_the_edge():
    x = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 2, 2)
    far = np.array([[[[3.0, 0.0]]]], np.float32)          # far right, middle row
    (zeros,) = GridSample().reference(x, far)
    (border,) = GridSample(padding_mode="border").reference(x, far)
    np.testing.assert_allclose(zeros, [[[[0.0]]]])
    np.testing.assert_allclose(border, [[[[3.0]]]])       # mean of the right column (2 and 4)


def test_deform_conv_mask_scales_each_offset_groups_taps():
    x = np.arange(18, dtype=np.float32).reshape(1, 2, 3, 3)
    w = np.ones((1, 2, 1, 1), np.float32)
    offset = np.zeros((1, 4, 3, 3), np.float32)                      # 2 offset groups, 1 tap, (y, x)
    mask = np.stack([np.zeros((3, 3)), np.ones((3, 3))])[None].astype(np.float32)
    (y,) = DeformConv(offset_group=2).reference(x, w, offset, np.array([0.5], np.float32), mask)
    np.testing.assert_allclose(y, x[:, 1:] + 0.5)                   # channel 0's taps masked out


def test_deform_conv_of_a_1d_kernel_is_unsupported():
    x, w = np.ones((1, 1, 4), np.float32), np.ones((1, 1, 2), np.float32)
    with pytest.raises(UnimplementedError, match="only 2-D DeformConv"):
        run_node("DeformConv", {"x": x, "w": w, "o": np.zeros((1, 2, 3), np.float32)}, opset=19)
