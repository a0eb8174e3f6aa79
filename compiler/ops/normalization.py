"""Normalizations over statistics of the input (ONNX semantics, inference only).

    BatchNormalization(X, scale, B, mean, var)  (X - mean) / sqrt(var + eps) * scale + B, per channel
    InstanceNormalization(X, scale, B)          standardize each (n, c) over the spatial axes
    LayerNormalization(X, scale[, B])           standardize over the axes from ``axis`` on
    GroupNormalization(X, scale, B)             standardize each (n, group) over its channels and space
    LRN(X)                                      X / (bias + alpha/size * sum of squares of nearby channels)**beta

Statistics are computed in float64 and the results cast back, so the
reference is at least as accurate as an f32 kernel may be.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import DTYPES, FLOAT_DTYPES, TensorType, as_dtype


def _standardize(x: np.ndarray, axes: tuple, eps: float) -> tuple:
    """(x - mean) * invstd over ``axes`` (kept), with mean and invstd, all float64."""
    x = x.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    invstd = 1.0 / np.sqrt(((x - mean) ** 2).mean(axis=axes, keepdims=True) + eps)
    return (x - mean) * invstd, mean, invstd


def _channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A per-channel vector shaped to broadcast over [N, C, *spatial]."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class _Norm(Op):
    kind: ClassVar[OpKind] = OpKind.NORMALIZATION

    def check_float(self, inputs) -> TensorType:
        """The X type, after checking every input is float and X has a channel axis."""
        self.check_arity(len(inputs))
        for t in inputs:
            if t.dtype not in FLOAT_DTYPES:
                raise InferError(f"expects float inputs, got {t.dtype}")
        x = inputs[0]
        if x.shape is not None and len(x.shape) < 2:
            raise InferError(f"X must be [N, C, ...], got {x}")
        return x

    def check_channels(self, x: TensorType, params, what: str) -> None:
        c = None if x.shape is None else x.shape[1]
        for t in params:
            if t.shape is not None and (len(t.shape) != 1 or None not in (c, t.shape[0]) and t.shape[0] != c):
                raise InferError(f"{what} must be [C] for X {x}, got {t}")


@register_op
class BatchNormalization(_Norm):
    """(X - mean) / sqrt(var + epsilon) * scale + B along channel axis 1, with given statistics."""

    arity: ClassVar[int] = 5
    epsilon: float = 1e-5

    def infer(self, *inputs):
        x = self.check_float(inputs)
        self.check_channels(x, inputs[1:], "scale, B, mean and var")
        return (x,)

    def reference(self, x, scale, b, mean, var):
        y = (x - _channel(mean, x.ndim)) / np.sqrt(_channel(var, x.ndim).astype(np.float64) + self.epsilon)
        return ((y * _channel(scale, x.ndim) + _channel(b, x.ndim)).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(x, s, b, m, v):
            y = np.empty(x.shape)
            for c in range(x.shape[1]):
                y[:, c] = (x[:, c] - m[c]) / (v[c] + 1e-3) ** 0.5 * s[c] + b[c]
            return y.astype(x.dtype)
        c = 3
        return [Sample(cls(epsilon=1e-3), (_rand((2, c, 4, 2)), _rand((c,)), _rand((c,)), _rand((c,)),
                                           _rand((c,), low=0.5, high=2)), expect)]


@register_op
class InstanceNormalization(_Norm):
    """Standardize each (n, c) over the spatial axes, then * scale[c] + B[c]."""

    arity: ClassVar[int] = 3
    epsilon: float = 1e-5

    def infer(self, *inputs):
        x = self.check_float(inputs)
        self.check_channels(x, inputs[1:], "scale and B")
        return (x,)

    def reference(self, x, scale, b):
        z = _standardize(x, tuple(range(2, x.ndim)), self.epsilon)[0]
        return ((z * _channel(scale, x.ndim) + _channel(b, x.ndim)).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(x, s, b):
            y = np.empty(x.shape)
            for n, c in np.ndindex(*x.shape[:2]):
                v = x[n, c].astype(np.float64)
                y[n, c] = (v - v.mean()) / np.sqrt(v.var() + 1e-5) * s[c] + b[c]
            return y.astype(x.dtype)
        return [Sample(cls(), (_rand((2, 3, 4, 5)), _rand((3,)), _rand((3,))), expect)]


@register_op
class LayerNormalization(_Norm):
    """Standardize over the axes from ``axis`` on, * scale + B; also Mean and InvStdDev (kept dims, ``stash``)."""

    arity: ClassVar = None
    min_inputs: ClassVar[int] = 2
    axis: int = -1
    epsilon: float = 1e-5
    stash: np.dtype = DTYPES["f32"]

    def __post_init__(self):
        object.__setattr__(self, "stash", as_dtype(self.stash))
        if self.stash not in FLOAT_DTYPES:
            raise InferError(f"stash dtype must be float, got {self.stash}")

    @property
    def num_outputs(self) -> int:
        return 3

    def check_arity(self, n: int) -> None:
        if n not in (2, 3):
            raise InferError(f"expects X, scale and an optional B (2 or 3 inputs), got {n}")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        x = inputs[0]
        for t in inputs:
            if t.dtype not in FLOAT_DTYPES:
                raise InferError(f"expects float inputs, got {t.dtype}")
        if x.shape is None:
            return (x, TensorType(self.stash, None), TensorType(self.stash, None))
        if not -len(x.shape) <= self.axis < len(x.shape):
            raise InferError(f"axis {self.axis} is out of range for X {x}")
        axis = self.axis % len(x.shape)
        kept = tuple(d if i < axis else 1 for i, d in enumerate(x.shape))
        return (x, TensorType(self.stash, kept), TensorType(self.stash, kept))

    def reference(self, x, scale, b=None):
        axis = self.axis % x.ndim
        z, mean, invstd = _standardize(x, tuple(range(axis, x.ndim)), self.epsilon)
        y = z * scale + (0 if b is None else b)
        return y.astype(x.dtype), mean.astype(self.stash), invstd.astype(self.stash)

    @classmethod
    def samples(cls):
        def expect(axis, eps=1e-5):
            def f(x, s, b=None):
                rows = x.reshape(int(np.prod(x.shape[:axis])), -1).astype(np.float64)
                mean = np.array([r.sum() / r.size for r in rows])
                inv = np.array([1 / np.sqrt(((r - m) ** 2).sum() / r.size + eps) for r, m in zip(rows, mean)])
                y = ((rows - mean[:, None]) * inv[:, None]).reshape(x.shape) * s + (0 if b is None else b)
                kept = x.shape[:axis] + (1,) * (x.ndim - axis)
                return y.astype(x.dtype), mean.reshape(kept).astype(np.float32), inv.reshape(kept).astype(np.float32)
            return f
        x = _rand((2, 3, 4))
        return [Sample(cls(), (x, _rand((4,)), _rand((4,))), expect(2)),
                Sample(cls(axis=1, epsilon=0.1), (x, _rand((3, 4))), expect(1, 0.1))]


@register_op
class GroupNormalization(_Norm):
    """Standardize each (n, group of C/num_groups channels) over its channels and space; * scale[c] + B[c]."""

    arity: ClassVar[int] = 3
    num_groups: int = 1
    epsilon: float = 1e-5

    def infer(self, *inputs):
        x = self.check_float(inputs)
        self.check_channels(x, inputs[1:], "scale and B")
        if x.shape is not None and x.shape[1] is not None and x.shape[1] % self.num_groups:
            raise InferError(f"X has {x.shape[1]} channels, not divisible into {self.num_groups} groups")
        return (x,)

    def reference(self, x, scale, b):
        groups = x.reshape((x.shape[0], self.num_groups, -1))
        z = _standardize(groups, (2,), self.epsilon)[0].reshape(x.shape)
        return ((z * _channel(scale, x.ndim) + _channel(b, x.ndim)).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(x, s, b):
            y = np.empty(x.shape)
            per = x.shape[1] // 2
            for n, g in np.ndindex(x.shape[0], 2):
                v = x[n, g * per:(g + 1) * per].astype(np.float64)
                y[n, g * per:(g + 1) * per] = (v - v.mean()) / np.sqrt(v.var() + 1e-5)
            return (y * s.reshape(1, -1, 1) + b.reshape(1, -1, 1)).astype(x.dtype)
        return [Sample(cls(num_groups=2), (_rand((2, 4, 3)), _rand((4,)), _rand((4,))), expect)]


@register_op
class LRN(_Norm):
    """X / (bias + alpha / size * sum of X**2 over channels c - (size-1)//2 .. c + size//2) ** beta."""

    size: int = 1
    alpha: float = 1e-4
    beta: float = 0.75
    bias: float = 1.0

    def infer(self, *inputs):
        return (self.check_float(inputs),)

    def reference(self, x):
        sq = np.pad(x.astype(np.float64) ** 2, [(0, 0), ((self.size - 1) // 2, self.size // 2)] +
                    [(0, 0)] * (x.ndim - 2))
        total = sum(sq[:, i:i + x.shape[1]] for i in range(self.size))
        return ((x / (self.bias + self.alpha / self.size * total) ** self.beta).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(x):
            y = np.empty(x.shape)
            for idx in np.ndindex(*x.shape):
                c = idx[1]
                lo, hi = max(0, c - 1), min(x.shape[1] - 1, c + 2)
                s = sum(float(x[(idx[0], j) + idx[2:]]) ** 2 for j in range(lo, hi + 1))
                y[idx] = x[idx] / (2.0 + 0.1 / 4 * s) ** 0.5
            return y.astype(x.dtype)
        return [Sample(cls(size=4, alpha=0.1, beta=0.5, bias=2.0), (_rand((2, 5, 3)),), expect)]
