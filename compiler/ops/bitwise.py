"""Bitwise ops on integers and the logical Xor on bools (ONNX semantics).

    BitwiseAnd(i32[12], i32[10]) -> i32[8]      BitwiseNot(u8[0]) -> u8[255]
    BitShift(u8[1], u8[3], direction="LEFT") -> u8[8]
    Xor(bool[T, F], bool[T, T]) -> bool[F, T]

netjit's And, Or and Not (bools) are in ``logical``.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from netjit.errors import InvalidArgumentError

from .base import Sample, register_op
from .elementwise import Binary, UnaryKeep
from .types import DTYPES, INT_DTYPES

_BOOL = DTYPES["bool"]
_rng = np.random.default_rng(1618)


def _int_pairs():
    """(a, b) operand pairs over ints, broadcasting (netjit's core dtypes: registry tests run everywhere)."""
    return [(_rng.integers(-2 ** 31, 2 ** 31, (3, 4)).astype(np.int32),
             _rng.integers(-2 ** 31, 2 ** 31, (4,)).astype(np.int32)),
            (_rng.integers(-2 ** 40, 2 ** 40, (2, 3)), _rng.integers(-2 ** 40, 2 ** 40, (2, 1)))]


class _Bitwise(Binary):
    accepts: ClassVar[frozenset] = INT_DTYPES
    commutative: ClassVar[bool] = True


def _bitwise(name: str, fn, expect, doc: str):
    def samples(cls):
        return [Sample(cls(), pair, expect) for pair in _int_pairs()]
    cls = type(name, (_Bitwise,), {"numpy_fn": staticmethod(fn), "samples": classmethod(samples),
                                   "__module__": __name__, "__qualname__": name, "__doc__": doc})
    return register_op(cls)


# expectations by De Morgan's laws: each op checked through the others' NumPy functions
BitwiseAnd = _bitwise("BitwiseAnd", np.bitwise_and, lambda a, b: ~(~a | ~b), "Bitwise and of two ints.")
BitwiseOr = _bitwise("BitwiseOr", np.bitwise_or, lambda a, b: ~(~a & ~b), "Bitwise or of two ints.")
BitwiseXor = _bitwise("BitwiseXor", np.bitwise_xor, lambda a, b: (a | b) & ~(a & b),
                      "Bitwise exclusive or of two ints.")


@register_op
class BitwiseNot(UnaryKeep):
    """Every bit of an int flipped."""

    accepts: ClassVar[frozenset] = INT_DTYPES
    numpy_fn: ClassVar = staticmethod(np.invert)

    @classmethod
    def samples(cls):
        (a, b), (c, _) = _int_pairs()
        return [Sample(cls(), (x,), lambda x: -x - 1) for x in (a, c)]   # two's complement


@register_op
class Xor(Binary):
    """Elementwise logical exclusive or of two bool tensors (broadcasting)."""

    accepts: ClassVar[frozenset] = frozenset({_BOOL})
    commutative: ClassVar[bool] = True
    numpy_fn: ClassVar = staticmethod(np.logical_xor)

    def out_dtype(self, *dtypes):
        return _BOOL

    @classmethod
    def samples(cls):
        a, b = _rng.integers(0, 2, (3, 4)).astype(bool), _rng.integers(0, 2, (4,)).astype(bool)
        return [Sample(cls(), (a, b), lambda a, b: a != b)]


@register_op
class BitShift(Binary):
    """x shifted by y bits, ``direction`` "LEFT" or "RIGHT" (arithmetic for signed x).
    Shifts outside [0, bit width) give 0 to the left and the sign fill (0 or -1) to the right."""

    direction: str = "LEFT"
    accepts: ClassVar[frozenset] = INT_DTYPES

    def __post_init__(self):
        if self.direction not in ("LEFT", "RIGHT"):
            raise InvalidArgumentError(f"BitShift direction must be 'LEFT' or 'RIGHT', got {self.direction!r}")

    def reference(self, x, y):
        dt = self.result_dtype(x, y)
        x, y = np.asarray(x).astype(dt, copy=False), np.asarray(y).astype(dt, copy=False)
        valid = (y >= 0) & (y < dt.itemsize * 8)
        shift = np.where(valid, y, 0).astype(dt)
        if self.direction == "LEFT":
            return (np.where(valid, np.left_shift(x, shift), 0).astype(dt, copy=False),)
        fill = -(x < 0).astype(dt)
        return (np.where(valid, np.right_shift(x, shift), fill).astype(dt, copy=False),)

    @classmethod
    def samples(cls):
        x, y = np.int32([-8, 4, -1, 1 << 30, 7, -2 ** 31]), np.int32([1, 33, -1, 1, 0, 31])
        u, v = np.int64([1, 255, -128, 3, 2 ** 62]), np.int64([3, 63, 64, 62, 1])
        return [Sample(cls(d), (a, b), lambda a, b, d=d: _python_shift(a, b, d))
                for d in ("LEFT", "RIGHT") for a, b in ((x, y), (u, v))]


def _python_shift(x, y, direction):
    """BitShift with Python's unbounded ints, wrapped to the dtype's width."""
    bits = x.dtype.itemsize * 8
    out = []
    for a, s in zip(x.tolist(), y.tolist()):
        if direction == "LEFT":
            v = (a << s) % (1 << bits) if 0 <= s < bits else 0
            out.append(v - (1 << bits) if x.dtype.kind == "i" and v >= 1 << (bits - 1) else v)
        else:
            out.append(a >> min(s, bits) if s >= 0 else (-1 if a < 0 else 0))
    return np.array(out, dtype=x.dtype)
