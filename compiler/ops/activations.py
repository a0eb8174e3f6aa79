"""Piecewise activations (ONNX semantics): Elu, Selu, Celu, LeakyRelu, PRelu,
ThresholdedRelu, HardSigmoid, HardSwish, Shrink.

Each computes in its input's dtype, its float attributes converted to that
dtype first (as ONNX's definitions do: an f16 Elu is f16 arithmetic).

    Elu(f32[-1, 2], alpha=0.5) -> f32[-0.316, 2]
    PRelu(f32[2,3], f32[3]) -> f32[2,3]

The smooth ones (Softplus, Softsign, Mish, Gelu) are in ``activations_smooth``.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Sample, register_op
from .elementwise import Binary, UnaryKeep
from .types import FLOAT_DTYPES, NUMERIC_DTYPES

_rng = np.random.default_rng(31415)


def float_inputs():
    """Sample inputs of the float activations: an f32 matrix and an f64 vector, both signs."""
    return [_rng.uniform(-4, 4, (3, 4)).astype(np.float32), _rng.uniform(-4, 4, (7,))]


def _f64(x):
    return np.asarray(x, np.float64)


class Activation(UnaryKeep):
    """An activation of floats, ``apply(x, c)`` in x's dtype (``c`` converts a constant to it)."""

    accepts: ClassVar[frozenset] = FLOAT_DTYPES

    def reference(self, x):
        dt = self.result_dtype(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return (np.asarray(self.apply(np.asarray(x), dt.type)).astype(dt, copy=False),)

    def apply(self, x: np.ndarray, c) -> np.ndarray:
        raise NotImplementedError


def activation_samples(cls, ops, expect) -> list[Sample]:
    """Each op of ``ops`` over each float input, against ``expect(op, x in f64)``."""
    return [Sample(op, (x,), lambda x, op=op: expect(op, _f64(x))) for op in ops for x in float_inputs()]


@register_op
class Elu(Activation):
    """x for x > 0, else alpha * (exp(x) - 1)."""

    alpha: float = 1.0

    def apply(self, x, c):
        return np.where(x > 0, x, c(self.alpha) * np.expm1(np.minimum(x, 0)))

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls(), cls(0.5)],
                                  lambda op, x: np.maximum(x, 0) + op.alpha * (np.exp(np.minimum(x, 0)) - 1))


@register_op
class Selu(Activation):
    """gamma * x for x > 0, else gamma * alpha * (exp(x) - 1); defaults are ONNX's (f32 values)."""

    alpha: float = 1.67326319217681884765625
    gamma: float = 1.05070102214813232421875

    def apply(self, x, c):
        return c(self.gamma) * np.where(x > 0, x, c(self.alpha) * np.expm1(np.minimum(x, 0)))

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls(), cls(2.0, 3.0)], lambda op, x: op.gamma * (
            np.maximum(x, 0) + op.alpha * (np.exp(np.minimum(x, 0)) - 1)))


@register_op
class Celu(Activation):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    alpha: float = 1.0

    def apply(self, x, c):
        a = c(self.alpha)
        return np.maximum(x, 0) + np.minimum(0, a * np.expm1(np.minimum(x, 0) / a))

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls(), cls(2.0)],
                                  lambda op, x: np.where(x > 0, x, op.alpha * (np.exp(x / op.alpha) - 1)))


@register_op
class LeakyRelu(Activation):
    """x for x >= 0, else alpha * x."""

    alpha: float = 0.01

    def apply(self, x, c):
        return np.where(x >= 0, x, c(self.alpha) * x)

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls(), cls(0.1)],
                                  lambda op, x: np.maximum(x, 0) + op.alpha * np.minimum(x, 0))


@register_op
class ThresholdedRelu(Activation):
    """x for x > alpha, else 0."""

    alpha: float = 1.0

    def apply(self, x, c):
        return np.where(x > c(self.alpha), x, 0)

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls(), cls(-0.5)], lambda op, x: x * (x > op.alpha))


@register_op
class HardSigmoid(Activation):
    """max(0, min(1, alpha * x + beta))."""

    alpha: float = 0.2
    beta: float = 0.5

    def apply(self, x, c):
        return np.clip(c(self.alpha) * x + c(self.beta), 0, 1)

    @classmethod
    def samples(cls):
        def expect(op, x):
            y = op.alpha * x + op.beta
            return np.where(y < 0, 0, np.where(y > 1, 1, y))
        return activation_samples(cls, [cls(), cls(0.5, 0.25)], expect)


@register_op
class HardSwish(Activation):
    """x * HardSigmoid(x) with alpha 1/6 and beta 1/2."""

    def apply(self, x, c):
        return x * np.clip(c(1 / 6) * x + c(0.5), 0, 1)

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls()], lambda op, x: x * np.minimum(np.maximum(x + 3, 0), 6) / 6)


@register_op
class Shrink(UnaryKeep):
    """x - bias for x > lambd, x + bias for x < -lambd, else 0 (any numeric dtype)."""

    bias: float = 0.0
    lambd: float = 0.5
    accepts: ClassVar[frozenset] = NUMERIC_DTYPES

    def reference(self, x):
        dt = self.result_dtype(x)
        x = np.asarray(x)
        # as ONNX: ints shrink in float, then truncate back to the int dtype
        out = np.where(x < -self.lambd, x + self.bias, np.where(x > self.lambd, x - self.bias, 0))
        return (out.astype(dt, copy=False),)

    @classmethod
    def samples(cls):
        def expect(x, bias, lambd):
            return (np.abs(x) > lambd) * (x - np.sign(x) * bias)
        ints = _rng.integers(-9, 10, (3, 4))
        return [Sample(cls(), (x,), lambda x: expect(_f64(x), 0.0, 0.5)) for x in float_inputs()] + [
            Sample(cls(1.5, 1.0), (float_inputs()[1],), lambda x: expect(x, 1.5, 1.0)),
            Sample(cls(1.5, 3.0), (ints,), lambda x: np.trunc(expect(x, 1.5, 3.0)))]


@register_op
class PRelu(Binary):
    """x for x >= 0, else slope * x; ``slope`` broadcasts to x's shape (never beyond it)."""

    accepts: ClassVar[frozenset] = NUMERIC_DTYPES

    def infer(self, *inputs):
        (out,) = super().infer(*inputs)
        x = inputs[0]
        if x.shape is not None and out.shape is not None and (len(out.shape) > len(x.shape) or any(
                a is not None and b is not None and a != b for a, b in zip(x.shape, out.shape))):
            raise InferError(f"slope {inputs[1]} does not broadcast to x {x}: it would grow x to {out}")
        return (out,)

    def reference(self, x, slope):
        dt = self.result_dtype(x, slope)
        return (np.where(np.asarray(x) < 0, np.asarray(slope) * x, x).astype(dt, copy=False),)

    @classmethod
    def samples(cls):
        x, s = float_inputs()[0], _rng.uniform(0, 1, (4,)).astype(np.float32)
        ints = _rng.integers(-9, 10, (2, 3))
        expect = lambda x, s: np.maximum(x, 0) + s * np.minimum(x, 0)  # noqa: E731
        return [Sample(cls(), (x, s), expect), Sample(cls(), (x, s[:1]), expect),
                Sample(cls(), (ints, np.int64([[2], [3]])), expect)]
