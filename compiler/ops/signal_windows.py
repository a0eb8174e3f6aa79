"""Ops that make signal-processing constants, with ONNX semantics.

    HannWindow / HammingWindow / BlackmanWindow(size, periodic, dtype)   a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N)
    MelWeightMatrix(num_mel_bins, dft_length, sample_rate, lower, upper)  triangular filters from DFT bins to mel bins

Their sizes are ONNX inputs; ``FromInputs`` binds them when they are only
known at run time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .types import DTYPES, TensorType, as_dtype

_F32 = DTYPES["f32"]


@dataclass(frozen=True, repr=False)
class _CosineWindow(Op):
    """sum_k (-1)**k coefficients[k] * cos(2 pi k n / N), n < size; N = size (periodic) or size - 1."""

    kind: ClassVar[OpKind] = OpKind.SOURCE
    arity: ClassVar[int] = 0
    min_inputs: ClassVar[int] = 0
    #: a0, a1, a2 of the window (Hann: 0.5, 0.5).
    coefficients: ClassVar[tuple] = ()
    size: int = 1
    periodic: bool = True
    dtype: np.dtype = _F32

    def __post_init__(self):
        object.__setattr__(self, "dtype", as_dtype(self.dtype))
        if self.size < 0:
            raise InferError(f"size must be >= 0, got {self.size}")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (TensorType(self.dtype, (self.size,)),)

    def reference(self):
        n = np.arange(self.size)
        period = self.size if self.periodic else self.size - 1
        if period == 0 and self.size:  # a symmetric window of one sample: the formula divides by zero
            raise ValueError(f"{self.name}: a symmetric window needs at least 2 samples, got 1")
        w = sum((-1) ** k * a * np.cos(2 * np.pi * k * n / period) for k, a in enumerate(self.coefficients))
        return (np.asarray(w, np.float64).astype(self.dtype),)

    @classmethod
    def samples(cls):
        def expect(size, period):
            return lambda: np.array([cls._formula(i / period) for i in range(size)], np.float32)
        return [Sample(cls(size=8), (), expect(8, 8)), Sample(cls(size=5, periodic=False), (), expect(5, 4))]


@register_op
class HannWindow(_CosineWindow):
    """0.5 - 0.5 cos(2 pi n / N)."""

    coefficients: ClassVar[tuple] = (0.5, 0.5)

    @staticmethod
    def _formula(t):
        return np.sin(np.pi * t) ** 2


@register_op
class HammingWindow(_CosineWindow):
    """25/46 - 21/46 cos(2 pi n / N)."""

    coefficients: ClassVar[tuple] = (25 / 46, 21 / 46)

    @staticmethod
    def _formula(t):
        return 25 / 46 - 21 / 46 * np.cos(2 * np.pi * t)


@register_op
class BlackmanWindow(_CosineWindow):
    """0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)."""

    coefficients: ClassVar[tuple] = (0.42, 0.5, 0.08)

    @staticmethod
    def _formula(t):
        return 0.42 - 0.5 * np.cos(2 * np.pi * t) + 0.08 * np.cos(4 * np.pi * t)


@register_op
class MelWeightMatrix(Op):
    """[dft_length // 2 + 1, num_mel_bins] weights of triangular mel filters over the DFT bins.

    num_mel_bins + 2 points evenly spaced by (mel(upper) - mel(lower)) / (num_mel_bins + 2) from
    mel(lower), mel(f) = 2595 log10(1 + f / 700), map back to bins floor((dft_length + 1) * f / rate);
    filter i rises linearly from point i to point i + 1 (weight 1) and falls to 0 at point i + 2.
    """

    kind: ClassVar[OpKind] = OpKind.SOURCE
    arity: ClassVar[int] = 0
    min_inputs: ClassVar[int] = 0
    num_mel_bins: int = 1
    dft_length: int = 2
    sample_rate: int = 1
    lower_edge_hertz: float = 0.0
    upper_edge_hertz: float = 0.0
    dtype: np.dtype = _F32

    def __post_init__(self):
        object.__setattr__(self, "dtype", as_dtype(self.dtype))
        if self.num_mel_bins < 1 or self.dft_length < 1 or self.sample_rate < 1 or \
                not 0 <= self.lower_edge_hertz <= self.upper_edge_hertz:
            raise InferError("expects num_mel_bins, dft_length and sample_rate >= 1 and "
                             f"0 <= lower_edge_hertz <= upper_edge_hertz, got {self!r}")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (TensorType(self.dtype, (self.dft_length // 2 + 1, self.num_mel_bins)),)

    def _bins(self) -> np.ndarray:
        """The num_mel_bins + 2 filter edges as DFT bin indices."""
        low, high = (2595 * np.log10(1 + f / 700) for f in (self.lower_edge_hertz, self.upper_edge_hertz))
        mel = low + np.arange(self.num_mel_bins + 2) * (high - low) / (self.num_mel_bins + 2)
        hertz = 700 * (10 ** (mel / 2595) - 1)
        return np.floor((self.dft_length + 1) * hertz / self.sample_rate).astype(np.int64)

    def reference(self):
        bins, out = self._bins(), np.zeros((self.dft_length // 2 + 1, self.num_mel_bins))
        if bins[-1] >= out.shape[0]:
            raise ValueError(f"upper_edge_hertz {self.upper_edge_hertz} puts a filter past the last DFT bin "
                             f"({out.shape[0] - 1}) for sample_rate {self.sample_rate}")
        j = np.arange(out.shape[0])
        for i in range(self.num_mel_bins):
            left, center, right = bins[i:i + 3]
            rise = (j - left) / (center - left) if center > left else (j == center) * 1.0
            fall = (right - j) / (right - center) if right > center else np.zeros(j.shape)
            out[:, i] = np.where((j >= left) & (j <= center), rise, np.where((j > center) & (j < right), fall, 0))
        return (out.astype(self.dtype),)

    @classmethod
    def samples(cls):
        def expect():
            # mel(4000) = 2146.06, 5 points 429.2 mel apart -> 0, 324.5, 799.2, 1494.3, 2510.8 Hz
            # -> bins floor(17 * f / 8000) = 0, 0, 1, 3, 5
            out = np.zeros((9, 3), np.float32)
            out[0, 0] = 1                       # filter 0: left = center = 0, right 1
            out[0:3, 1] = [0, 1, 0.5]           # filter 1: 0 -> 1 -> 3
            out[1:5, 2] = [0, 0.5, 1, 0.5]      # filter 2: 1 -> 3 -> 5
            return out
        return [Sample(cls(num_mel_bins=3, dft_length=16, sample_rate=8000, upper_edge_hertz=4000.0), (), expect)]
