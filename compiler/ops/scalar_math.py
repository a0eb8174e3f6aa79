"""Scalar math ops (ONNX semantics): trigonometry, rounding, Erf, Sign, IsNaN, IsInf, Mod, TruncDiv.

Every op here is elementwise over NumPy broadcasting and keeps its operands'
dtype unless its docstring says otherwise. Ops that ONNX defines for floats
only (trigonometry, rounding, Erf, IsNaN, IsInf) refuse other dtypes rather
than promoting them.

    Sin(f32[2,3]) -> f32[2,3]       TruncDiv(i32[-3], i32[2]) -> i32[-1]
    IsInf(f64[4]) -> bool[4]        Mod(i32[-7], i32[3]) -> i32[2]

Bitwise ops are in ``bitwise``.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .base import InferError, Sample, register_op
from .elementwise import Binary, Unary, UnaryKeep
from .types import DTYPES, FLOAT_DTYPES, INT_DTYPES, NUMERIC_DTYPES

_BOOL = DTYPES["bool"]
_rng = np.random.default_rng(2718)


def _floats(shape, low=-2.0, high=2.0):
    return [_rng.uniform(low, high, shape).astype(np.float32), _rng.uniform(low, high, shape[-1:])]


def _ints(shape, dtype, low=-9, high=9):
    return _rng.integers(low, high + 1, shape).astype(dtype)


# -- float functions -----------------------------------------------------------------
class FloatUnary(UnaryKeep):
    """A function of floats: the output has the input's float dtype."""

    accepts: ClassVar[frozenset] = FLOAT_DTYPES

    def reference(self, x):
        dt = self.result_dtype(x)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return (np.asarray(type(self).numpy_fn(x)).astype(dt, copy=False),)


def _float_fn(name: str, fn, expect, low: float, high: float, doc: str):
    """Register ``name``: ``fn`` over floats, sampled in [low, high] against ``expect`` (in f64)."""
    def samples(cls):
        return [Sample(cls(), (x,), lambda x: expect(np.asarray(x, np.float64))) for x in _floats((3, 4), low, high)]
    cls = type(name, (FloatUnary,), {
        "numpy_fn": staticmethod(fn), "samples": classmethod(samples),
        "__module__": __name__, "__qualname__": name, "__doc__": doc})
    return register_op(cls)


_math_erf = np.vectorize(math.erf, otypes=[np.float64])


def erf(x):
    """The error function, elementwise (SciPy's: vectorised, accurate to the last bit)."""
    import scipy.special     # deferred: importing it costs ~150 ms, more than all of netjit
    return scipy.special.erf(x)

Sin = _float_fn("Sin", np.sin, lambda x: np.cos(np.pi / 2 - x), -3, 3, "Sine (radians).")
Cos = _float_fn("Cos", np.cos, lambda x: np.sin(x + np.pi / 2), -3, 3, "Cosine (radians).")
Tan = _float_fn("Tan", np.tan, lambda x: np.sin(x) / np.cos(x), -1.2, 1.2, "Tangent (radians).")
Asin = _float_fn("Asin", np.arcsin, lambda x: np.arctan(x / np.sqrt(1 - x * x)), -0.9, 0.9, "Arcsine.")
Acos = _float_fn("Acos", np.arccos, lambda x: np.arctan2(np.sqrt(1 - x * x), x), -0.9, 0.9, "Arccosine.")
Atan = _float_fn("Atan", np.arctan, lambda x: np.arcsin(x / np.sqrt(1 + x * x)), -3, 3, "Arctangent.")
Sinh = _float_fn("Sinh", np.sinh, lambda x: (np.exp(x) - np.exp(-x)) / 2, -3, 3, "Hyperbolic sine.")
Cosh = _float_fn("Cosh", np.cosh, lambda x: (np.exp(x) + np.exp(-x)) / 2, -3, 3, "Hyperbolic cosine.")
Asinh = _float_fn("Asinh", np.arcsinh, lambda x: np.log(x + np.sqrt(x * x + 1)), 0, 3,
                  "Inverse hyperbolic sine.")
Acosh = _float_fn("Acosh", np.arccosh, lambda x: np.log(x + np.sqrt(x * x - 1)), 1.1, 4,
                  "Inverse hyperbolic cosine (NaN below 1).")
Atanh = _float_fn("Atanh", np.arctanh, lambda x: 0.5 * np.log((1 + x) / (1 - x)), -0.9, 0.9,
                  "Inverse hyperbolic tangent.")
Erf = _float_fn("Erf", erf, _math_erf, -3, 3, "The Gauss error function.")
Ceil = _float_fn("Ceil", np.ceil, lambda x: -np.floor(-x), -5, 5, "Smallest integer not below x, as a float.")
Floor = _float_fn("Floor", np.floor, lambda x: x - np.mod(x, 1.0), -5, 5, "Largest integer not above x, as a float.")


def _round_half_even(x):
    return np.vectorize(lambda v: float(round(v)) if math.isfinite(v) else v, otypes=[np.float64])(x)


@register_op
class Round(FloatUnary):
    """Round to the nearest integer, halves to even (ONNX, NumPy and IEEE roundeven)."""

    numpy_fn: ClassVar = staticmethod(np.round)

    @classmethod
    def samples(cls):
        halves = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.4, 2.6, -2.6, np.inf, np.nan])
        return [Sample(cls(), (halves.astype(np.float32),), _round_half_even),
                Sample(cls(), (_rng.uniform(-9, 9, (3, 4)),), _round_half_even)]


@register_op
class Sign(UnaryKeep):
    """-1, 0 or 1 by the sign of x (NaN stays NaN), in x's dtype."""

    numpy_fn: ClassVar = staticmethod(np.sign)

    @classmethod
    def samples(cls):
        sign = lambda x: ((x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))  # noqa: E731
        return [Sample(cls(), (np.float32([-2.5, -0.0, 0.0, 3.0]),), sign),
                Sample(cls(), (_ints((3, 4), np.int64),), sign),
                Sample(cls(), (_ints((5,), np.int32),), sign)]


# -- float tests -----------------------------------------------------------------------
class FloatTest(Unary):
    """A predicate of floats: bool output."""

    accepts: ClassVar[frozenset] = FLOAT_DTYPES

    def out_dtype(self, dtype):
        return _BOOL


_SPECIALS = np.array([1.5, np.nan, np.inf, -np.inf, -0.0, 3e38])


@register_op
class IsNaN(FloatTest):
    """True where x is NaN."""

    numpy_fn: ClassVar = staticmethod(np.isnan)

    @classmethod
    def samples(cls):
        return [Sample(cls(), (x,), lambda x: x != x) for x in (_SPECIALS.astype(np.float32), _SPECIALS)]


@register_op
class IsInf(FloatTest):
    """True where x is +inf (when ``detect_positive``) or -inf (when ``detect_negative``)."""

    detect_positive: bool = True
    detect_negative: bool = True

    def reference(self, x):
        self.result_dtype(x)
        x = np.asarray(x)
        return ((np.isposinf(x) & self.detect_positive) | (np.isneginf(x) & self.detect_negative),)

    @classmethod
    def samples(cls):
        big = np.finfo(np.float64).max    # an f64: an f32 x compares in f64
        return [Sample(cls(), (_SPECIALS,), lambda x: np.abs(x) > big),
                Sample(cls(detect_negative=False), (_SPECIALS.astype(np.float32),), lambda x: x > big),
                Sample(cls(detect_positive=False), (_SPECIALS,), lambda x: x < -big)]


# -- integer arithmetic ------------------------------------------------------------------
@register_op
class TruncDiv(Binary):
    """Integer division rounding toward zero, as C (and ONNX Div of ints) does; NumPy's ``//``
    rounds down. Division by zero gives 0 (ONNX leaves it undefined)."""

    accepts: ClassVar[frozenset] = INT_DTYPES

    def reference(self, a, b):
        dt = self.result_dtype(a, b)
        a, b = np.asarray(a).astype(dt, copy=False), np.asarray(b).astype(dt, copy=False)
        with np.errstate(divide="ignore", over="ignore"):
            q = np.floor_divide(a, b)
            r = a - q * b
        # floor and trunc differ when the division is inexact and the quotient negative
        return ((q + ((r != 0) & ((a < 0) != (b < 0)))).astype(dt, copy=False),)

    @classmethod
    def samples(cls):
        trunc = lambda a, b: np.trunc(np.asarray(a, np.float64) / b).astype(np.result_type(a, b))  # noqa: E731
        b = _ints((3, 4), np.int32, 1, 5) * np.where(_rng.integers(0, 2, (3, 4)) == 1, 1, -1).astype(np.int32)
        return [Sample(cls(), (_ints((3, 4), np.int32, -20, 20), b), trunc),
                Sample(cls(), (_ints((2, 1), np.int64, -20, 20), np.int64([3, -3, 7])), trunc)]


@register_op
class Mod(Binary):
    """Remainder: with the divisor's sign (NumPy ``mod``, Python ``%``), or with the
    dividend's when ``fmod`` (C ``fmod``). Integer remainders by zero are 0."""

    fmod: bool = False
    numpy_fn: ClassVar = staticmethod(np.mod)

    def reference(self, a, b):
        dt = self.result_dtype(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (np.fmod if self.fmod else np.mod)(a, b)
        return (np.asarray(out).astype(dt, copy=False),)

    @classmethod
    def samples(cls):
        a, b = _ints((3, 4), np.int64, -20, 20), _ints((4,), np.int64, 1, 6) * np.int64([1, -1, 1, -1])
        fa, fb = a.astype(np.float64) + 0.25, b.astype(np.float64)
        floor_mod = lambda a, b: a - np.floor(np.asarray(a, np.float64) / b) * b  # noqa: E731
        trunc_mod = lambda a, b: a - np.trunc(np.asarray(a, np.float64) / b) * b  # noqa: E731
        return [Sample(cls(), (a, b), floor_mod), Sample(cls(fmod=True), (a, b), trunc_mod),
                Sample(cls(), (fa, fb), floor_mod), Sample(cls(fmod=True), (fa, fb), trunc_mod)]
