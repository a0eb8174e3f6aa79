"""Softmax's siblings along one axis (ONNX 13 semantics): LogSoftmax and Hardmax.

Softmax itself is in reduction.py. The ONNX importer maps opsets before 13
(coerce to 2-D at ``axis``) onto these with a Reshape on either side.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES


class _AlongAxis(Op):
    kind: ClassVar[OpKind] = OpKind.NORMALIZATION

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.dtype not in FLOAT_DTYPES:
            raise InferError(f"expects a float input, got {t.dtype}")
        if t.shape is not None:
            normalize_axes((self.axis,), len(t.shape))
        return (t,)


@register_op
class LogSoftmax(_AlongAxis):
    """x - max(x) - log(sum(exp(x - max(x)))) along ``axis``."""

    axis: int = -1

    def reference(self, x):
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        return ((shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(axis):
            return lambda x: np.log(np.exp(x.astype(np.float64)) /
                                    np.exp(x.astype(np.float64)).sum(axis=axis, keepdims=True)).astype(x.dtype)
        return [Sample(cls(), (_rand((3, 5)),), expect(-1)),
                Sample(cls(axis=0), (_rand((4, 2, 3), np.float64),), expect(0))]


@register_op
class Hardmax(_AlongAxis):
    """1 where x is the first maximum along ``axis``, else 0."""

    axis: int = -1

    def reference(self, x):
        first = np.expand_dims(np.argmax(x, axis=self.axis), self.axis)
        out = np.zeros_like(x)
        np.put_along_axis(out, first, 1, axis=self.axis)
        return (out,)

    @classmethod
    def samples(cls):
        def expect(axis):
            def f(x):
                moved = np.moveaxis(x, axis, -1)
                out = np.zeros(moved.shape, x.dtype)
                for idx in np.ndindex(*moved.shape[:-1]):
                    row = list(moved[idx])
                    out[idx + (row.index(max(row)),)] = 1
                return np.moveaxis(out, -1, axis)
            return f
        ties = np.array([[1, 3, 3], [2, 2, 0]], np.float32)
        return [Sample(cls(), (ties,), expect(-1)),
                Sample(cls(axis=1), (_rand((2, 4, 3), np.float64),), expect(1))]
