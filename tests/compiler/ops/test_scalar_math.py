"""Scalar math and bitwise ops: the edges where ONNX's meaning is not NumPy's default.

The registry test runs every op's samples; these pin the edge cases: signs of
quotients and remainders, shifts outside the bit width, halves, infinities.
"""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops import bitwise as B
from netjit.compiler.ops import scalar_math as M
from netjit.errors import InvalidArgumentError


def test_trunc_div_rounds_toward_zero_as_c_does():
    a, b = np.int32([-7, 7, -7, 7, 6, -6, 0]), np.int32([2, 2, -2, -2, 3, 3, -5])
    (got,) = M.TruncDiv().reference(a, b)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [-3, 3, 3, -3, 2, -2, 0])   # NumPy's // gives -4 for -7 // 2


def test_mod_takes_the_divisor_sign_or_with_fmod_the_dividend_sign():
    a, b = np.int64([-4, 7, 5, 4, -7, 8]), np.int64([2, -3, 8, -2, 3, 5])
    np.testing.assert_array_equal(M.Mod().reference(a, b)[0], [0, -2, 5, 0, 2, 3])
    np.testing.assert_array_equal(M.Mod(fmod=True).reference(a, b)[0], [0, 1, 5, 0, -1, 3])
    x, y = np.float32([-3, 3, -1, 1]), np.float32([np.inf, np.inf, -np.inf, -np.inf])
    np.testing.assert_array_equal(M.Mod().reference(x, y)[0], [np.inf, 3, -1, -np.inf])
    np.testing.assert_array_equal(M.Mod(fmod=True).reference(x, y)[0], [-3, 3, -1, 1])


def test_bitshift_outside_the_width_gives_zero_or_the_sign_fill():
    x, s = np.int32([-8, 4, -1, 5]), np.int32([-1, 32, 100, 2])
    np.testing.assert_array_equal(B.BitShift("LEFT").reference(x, s)[0], [0, 0, 0, 20])
    np.testing.assert_array_equal(B.BitShift("RIGHT").reference(x, s)[0], [-1, 0, -1, 1])
    big = np.int64([1 << 62, -(1 << 62)])
    np.testing.assert_array_equal(B.BitShift("LEFT").reference(big, np.int64([1, 1]))[0], [-(1 << 63), -(1 << 63)])


def test_round_takes_halves_to_even():
    x = np.float32([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999998, np.nan, -np.inf])
    np.testing.assert_array_equal(M.Round().reference(x)[0], [0, 2, 2, -0.0, -2, 2, np.nan, -np.inf])


def test_isinf_detects_the_signs_asked_for():
    x = np.float64([np.inf, -np.inf, np.nan, 1.0])
    assert M.IsInf().reference(x)[0].tolist() == [True, True, False, False]
    assert M.IsInf(detect_negative=False).reference(x)[0].tolist() == [True, False, False, False]
    assert M.IsInf(detect_positive=False).reference(x)[0].tolist() == [False, True, False, False]


@pytest.mark.parametrize("op, types, message", [
    (M.Sin(), [TensorType(np.int32, (2,))], "does not accept dtype int32"),
    (M.IsNaN(), [TensorType(np.int64, (2,))], "does not accept dtype int64"),
    (M.TruncDiv(), [TensorType(np.float32, (2,))] * 2, "does not accept dtype float32"),
    (B.BitwiseAnd(), [TensorType(np.bool_, (2,))] * 2, "does not accept dtype bool"),
    (B.Xor(), [TensorType(np.int32, (2,))] * 2, "does not accept dtype int32"),
    (M.Mod(), [TensorType(np.int32, (3,)), TensorType(np.int32, (4,))], r"shapes \[3\] and \[4\] do not broadcast"),
])
def test_inference_errors_say_what_is_wrong(op, types, message):
    with pytest.raises(InferError, match=message):
        op.infer(*types)


def test_inference_keeps_the_dtype_and_tests_give_bool():
    f32 = TensorType(np.float32, (None, 3))
    assert M.Cos().infer(f32) == (f32,)
    assert M.IsInf().infer(f32) == (TensorType(np.bool_, (None, 3)),)
    assert M.TruncDiv().infer(TensorType(np.int64, (2, 1)), TensorType(np.int64, (3,))) == \
        (TensorType(np.int64, (2, 3)),)


def test_bitshift_refuses_an_unknown_direction():
    with pytest.raises(InvalidArgumentError, match="direction must be 'LEFT' or 'RIGHT', got 'UP'"):
        B.BitShift("UP")
