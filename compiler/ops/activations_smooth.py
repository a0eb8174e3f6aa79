"""Smooth activations (ONNX semantics): Softplus, Softsign, Mish, Gelu.

    Softplus(f32[0]) -> f32[0.693]      Gelu(f32[1], approximate="tanh") -> f32[0.841]

Like the piecewise ones in ``activations``, each computes in its input's dtype.
"""
from __future__ import annotations

import math

import numpy as np

from netjit.errors import InvalidArgumentError

from .activations import Activation, activation_samples
from .base import register_op
from .scalar_math import erf

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


@register_op
class Softplus(Activation):
    """log(1 + exp(x)), without overflow for large x."""

    def apply(self, x, c):
        return np.logaddexp(c(0), x)

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls()], lambda op, x: np.log1p(np.exp(x)))


@register_op
class Softsign(Activation):
    """x / (1 + |x|)."""

    def apply(self, x, c):
        return x / (c(1) + np.abs(x))

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls()], lambda op, x: np.sign(x) * (1 - 1 / (1 + np.abs(x))))


@register_op
class Mish(Activation):
    """x * tanh(softplus(x))."""

    def apply(self, x, c):
        return x * np.tanh(np.logaddexp(c(0), x))

    @classmethod
    def samples(cls):
        def expect(op, x):
            e = (1 + np.exp(x)) ** 2
            return x * (e - 1) / (e + 1)
        return activation_samples(cls, [cls()], expect)


@register_op
class Gelu(Activation):
    """x * Phi(x), Phi the standard normal CDF: exactly with erf (``approximate="none"``)
    or with ONNX's tanh formula (``approximate="tanh"``)."""

    approximate: str = "none"

    def __post_init__(self):
        if self.approximate not in ("none", "tanh"):
            raise InvalidArgumentError(f"Gelu approximate must be 'none' or 'tanh', got {self.approximate!r}")

    def apply(self, x, c):
        if self.approximate == "tanh":
            inner = c(math.sqrt(2 / math.pi)) * (x + c(0.044715) * x * x * x)
            return c(0.5) * x * (c(1) + np.tanh(inner))
        return c(0.5) * x * (c(1) + erf(x * c(1 / math.sqrt(2))).astype(x.dtype, copy=False))

    @classmethod
    def samples(cls):
        def expect(op, x):
            if op.approximate == "tanh":   # 0.5 * (1 + tanh(z)) is sigmoid(2z)
                return x / (1 + np.exp(-2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
            return x * 0.5 * _erfc(-x / math.sqrt(2))
        return activation_samples(cls, [cls(), cls("tanh")], expect)
