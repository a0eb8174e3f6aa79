"""Signal ops through the ONNX converters: run-time parameters, dft_length, onesided rules, STFT defaults."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.signal import DFT, STFT

from onnx_node import run_node

RNG = np.random.default_rng(5)
X = RNG.standard_normal((2, 6, 1)).astype(np.float32)


def _pairs(z):
    return np.stack([z.real, z.imag], -1).astype(np.float32)


@pytest.mark.parametrize("n", [4, 9])
def test_dft_length_cuts_or_zero_pads_the_signal(n):
    (y,) = run_node("DFT", {"x": X, "n": np.array(n, np.int64)}, opset=17, axis=1)
    np.testing.assert_allclose(y, _pairs(np.fft.fft(X[..., 0], n=n, axis=1)), rtol=1e-5, atol=1e-5)


def test_dft_20_axis_bound_at_run_time_counts_from_the_back():
    x = RNG.standard_normal((3, 4, 2)).astype(np.float32)
    (y,) = run_node("DFT", {"x": x, "n": np.array(3, np.int64), "axis": np.array(-3, np.int64)}, opset=20)
    np.testing.assert_allclose(y, _pairs(np.fft.fft(x[..., 0] + 1j * x[..., 1], axis=0)), rtol=1e-5, atol=1e-5)


def test_onesided_forward_dft_refuses_complex_input():
    with pytest.raises(InferError, match="onesided DFT takes real input"):
        DFT(axis=0, onesided=True).infer(TensorType(np.float32, (4, 2)))
    with pytest.raises(InferError, match="onesided inverse DFT takes complex input"):
        DFT(axis=0, onesided=True, inverse=True).infer(TensorType(np.float32, (4, 1)))


def test_dft_axis_may_not_be_the_complex_axis():
    with pytest.raises(InferError, match="axis -1 is out of range"):
        DFT(axis=-1).infer(TensorType(np.float32, (4, 2)))


def test_stft_without_window_or_frame_length_takes_the_whole_signal():
    (y,) = run_node("STFT", {"s": X, "step": np.array(2, np.int64)}, opset=17)
    np.testing.assert_allclose(y, _pairs(np.fft.rfft(X[..., 0], axis=1))[:, None], rtol=1e-5, atol=1e-5)


def test_stft_window_and_frame_length_must_agree():
    with pytest.raises(InferError, match="the window has 4 samples, frame_length is 3"):
        STFT(frame_step=1, frame_length=3).infer(TensorType(np.float32, (1, 8, 1)), TensorType(np.float32, (4,)))


def test_window_size_bound_at_run_time_with_output_datatype():
    (w,) = run_node("HannWindow", {"n": np.array(4, np.int32)}, opset=17, out_dtypes=(np.float64,),
                    output_datatype=11)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, [0, 0.5, 1, 0.5], atol=1e-12)
