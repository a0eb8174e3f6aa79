"""Activations: ONNX's definitions at their edges (overflow, ints, broadcasting of PRelu's slope)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops import activations as A
from netjit.compiler.ops import activations_smooth as AS
from netjit.errors import InvalidArgumentError


@pytest.mark.parametrize("op", [A.Elu(), A.Selu(), A.Celu(), AS.Softplus(), AS.Mish(), AS.Gelu()])
def test_large_inputs_do_not_overflow(op):
    x = np.float32([-1e4, -100.0, 0.0, 100.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (y,) = op.reference(x)
    assert y.dtype == np.float32 and np.isfinite(y).all()
    np.testing.assert_allclose(y[-2:] / x[-2:], [y[-2] / x[-2]] * 2, rtol=1e-6)  # linear for large x


def test_activations_compute_in_the_input_dtype():
    x = np.linspace(-3, 3, 7)
    assert A.LeakyRelu(0.1).reference(x)[0].dtype == np.float64
    assert A.HardSwish().reference(x.astype(np.float32))[0].dtype == np.float32
    np.testing.assert_allclose(A.HardSwish().reference(x)[0], x * np.clip(x + 3, 0, 6) / 6)


def test_shrink_of_ints_truncates_as_onnx_does():
    x = np.int64([-5, -1, 0, 1, 5])
    np.testing.assert_array_equal(A.Shrink(bias=1.5, lambd=1.0).reference(x)[0], [-3, 0, 0, 0, 3])


def test_gelu_tanh_approximates_gelu():
    x = np.linspace(-4, 4, 33)
    exact, approx = AS.Gelu().reference(x)[0], AS.Gelu("tanh").reference(x)[0]
    np.testing.assert_allclose(approx, exact, atol=1e-3)
    with pytest.raises(InvalidArgumentError, match="approximate must be 'none' or 'tanh'"):
        AS.Gelu("sigmoid")


def test_prelu_slope_broadcasts_to_x_but_never_grows_it():
    x = TensorType(np.float32, (2, 3))
    assert A.PRelu().infer(x, TensorType(np.float32, (3,))) == (x,)
    assert A.PRelu().infer(TensorType(np.float32, (None, 3)), TensorType(np.float32, (1,)))[0].shape == (None, 3)
    with pytest.raises(InferError, match="does not broadcast to x"):
        A.PRelu().infer(TensorType(np.float32, (3,)), TensorType(np.float32, (2, 3)))


@pytest.mark.parametrize("op", [A.Elu(), A.HardSigmoid(), AS.Gelu()])
def test_float_activations_refuse_ints(op):
    with pytest.raises(InferError, match="does not accept dtype int32"):
        op.infer(TensorType(np.int32, (2,)))
