"""Fourier transforms with ONNX semantics: DFT and STFT.

Complex tensors are real tensors with a trailing axis of 2 (real, imaginary);
a real signal may have a trailing axis of 1.

    DFT(axis, dft_length, inverse, onesided)(x)      the (inverse) discrete Fourier transform along ``axis``
    STFT(frame_step, frame_length, onesided)(s[, w])  DFTs of windowed frames of each signal

(The windows and MelWeightMatrix are in ``signal_windows``.)

Sizes that ONNX passes as tensors are fields here; ``FromInputs`` binds them
when they are only known at run time. Transforms run in numpy.fft at the
input's precision (complex64 for f16 and f32, complex128 for f64), as an
f32 kernel would.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, TensorType


def _complex(x: np.ndarray) -> np.ndarray:
    """A [..., 1|2] real tensor as a complex tensor without the last axis: complex128 for f64, else complex64."""
    z = np.empty(x.shape[:-1], np.complex128 if x.dtype == np.float64 else np.complex64)
    z.real, z.imag = x[..., 0], (x[..., 1] if x.shape[-1] == 2 else 0)
    return z


def _pairs(z: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A complex tensor as [..., 2] (real, imaginary) of ``dtype``."""
    return np.stack([z.real, z.imag], axis=-1).astype(dtype)


def _check_signal(t: TensorType, what: str) -> None:
    if t.dtype not in FLOAT_DTYPES:
        raise InferError(f"{what} must be float, got {t.dtype}")
    if t.shape is not None and (len(t.shape) < 2 or t.shape[-1] not in (None, 1, 2)):
        raise InferError(f"{what} must be [..., 1] (real) or [..., 2] (complex), got {t}")


@register_op
class DFT(Op):
    """The DFT of ``x`` along ``axis`` (not the last), zero-padded or cut to ``dft_length``.

    ``onesided`` keeps bins 0..n//2 of a forward transform; an inverse
    ``onesided`` transform reads those bins and gives the real signal of
    length ``dft_length`` (default 2 * (bins - 1)), as numpy.fft.irfft.
    ``inverse`` divides by n.
    """

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    axis: int = 1
    dft_length: Optional[int] = None
    inverse: bool = False
    onesided: bool = False

    def _axis(self, rank: int) -> int:
        if not -rank <= self.axis < rank - 1 or self.axis == -1:
            raise InferError(f"axis {self.axis} is out of range for rank {rank} (the last axis holds re, im)")
        return self.axis % rank

    def _length(self, n: Optional[int]) -> Optional[int]:
        if self.onesided and self.inverse:
            return self.dft_length or (None if n is None else 2 * (n - 1))
        length = self.dft_length or n
        if length is None:
            return None
        return length // 2 + 1 if self.onesided else length

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (x,) = inputs
        _check_signal(x, "x")
        if x.shape is None:
            return (TensorType(x.dtype, None),)
        a = self._axis(len(x.shape))
        self._check_onesided(x.shape[-1])
        last = 1 if self.onesided and self.inverse else 2
        return (TensorType(x.dtype, x.shape[:a] + (self._length(x.shape[a]),) + x.shape[a + 1:-1] + (last,)),)

    def _check_onesided(self, parts: Optional[int]) -> None:
        want = 2 if self.inverse else 1
        if self.onesided and parts is not None and parts != want:
            raise InferError(f"a onesided {'inverse ' if self.inverse else ''}DFT takes "
                             f"{'complex' if self.inverse else 'real'} input ([..., {want}]), got [..., {parts}]")

    def reference(self, x):
        self._check_onesided(x.shape[-1])
        a, z = self._axis(x.ndim), _complex(x)
        if self.onesided and self.inverse:
            return (np.fft.irfft(z, n=self._length(x.shape[a]), axis=a)[..., None].astype(x.dtype),)
        n = self.dft_length or x.shape[a]
        z = (np.fft.ifft if self.inverse else np.fft.fft)(z, n=n, axis=a)
        if self.onesided:
            z = np.take(z, np.arange(n // 2 + 1), axis=a)
        return (_pairs(z, x.dtype),)

    @classmethod
    def samples(cls):
        def dft(sign, scale, axis=0):
            def f(x):
                z = _complex(x)
                n = z.shape[axis]
                k = np.arange(n)
                m = np.exp(sign * 2j * np.pi * np.outer(k, k) / n) / scale(n)
                return _pairs(np.moveaxis(np.tensordot(m, np.moveaxis(z, axis, 0), 1), 0, axis), x.dtype)
            return f
        real, cplx = _rand((5, 3, 1)), _rand((4, 2, 2), np.float64)
        return [Sample(cls(axis=0), (real,), dft(-1, lambda n: 1)),
                Sample(cls(axis=-2, inverse=True), (cplx,), dft(1, lambda n: n, axis=1)),
                Sample(cls(axis=0, onesided=True), (real,), lambda x: dft(-1, lambda n: 1)(x)[:3])]


@register_op
class STFT(Op):
    """DFTs of frames ``frame_length`` long every ``frame_step`` samples of each signal, times ``window``.

    signal [batch, length, 1|2], optional window [frame_length] -> [batch, frames, bins, 2];
    ``frame_length`` 0 means the window's length, or without a window the signal's; ``onesided``
    (real signals only) keeps bins 0..frame_length//2.
    """

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    frame_step: int = 1
    frame_length: int = 0
    onesided: bool = True

    def check_arity(self, n: int) -> None:
        if n not in (1, 2):
            raise InferError(f"expects a signal and an optional window, got {n} inputs")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        s = inputs[0]
        _check_signal(s, "signal")
        if s.shape is None:
            return (TensorType(s.dtype, (None,) * 4),)
        if self.onesided and s.shape[-1] == 2:
            raise InferError(f"a onesided STFT takes a real signal ([batch, length, 1]), got {s}")
        window = inputs[1].shape if len(inputs) == 2 else None
        length = self._frame_length(s.shape[1], None if window is None else window[0])
        frames = None if None in (length, s.shape[1]) else (s.shape[1] - length) // self.frame_step + 1
        bins = None if length is None else (length // 2 + 1 if self.onesided else length)
        return (TensorType(s.dtype, (s.shape[0], frames, bins, 2)),)

    def _frame_length(self, signal: Optional[int], window: Optional[int]) -> Optional[int]:
        if self.frame_length and window is not None and window != self.frame_length:
            raise InferError(f"the window has {window} samples, frame_length is {self.frame_length}")
        return self.frame_length or (signal if window is None else window)

    def reference(self, signal, window=None):
        if self.onesided and signal.shape[-1] == 2:
            raise ValueError("a onesided STFT takes a real signal")
        try:
            length = self._frame_length(signal.shape[1], None if window is None else window.shape[0])
        except InferError as exc:
            raise ValueError(str(exc)) from None
        z = _complex(signal)
        starts = np.arange((z.shape[1] - length) // self.frame_step + 1) * self.frame_step
        frames = z[:, starts[:, None] + np.arange(length)]
        if window is not None:
            frames = frames * window.astype(frames.real.dtype)
        spectrum = np.fft.fft(frames, axis=-1)
        if self.onesided:
            spectrum = spectrum[..., :length // 2 + 1]
        return (_pairs(spectrum, signal.dtype),)

    @classmethod
    def samples(cls):
        def expect(s, w=None):
            n = 4 if w is None else len(w)
            frames = [s[0, i:i + n, 0] * (1 if w is None else w) for i in range(0, s.shape[1] - n + 1, 3)]
            k = np.arange(n)
            m = np.exp(-2j * np.pi * np.outer(k, k) / n)
            z = np.array([m @ f for f in frames])[None]
            return _pairs(z if w is not None else z[..., :3], s.dtype)
        s = _rand((1, 11, 1))
        return [Sample(cls(frame_step=3, frame_length=4), (s,), expect),
                Sample(cls(frame_step=3, onesided=False), (s, _rand((5,))), expect)]
