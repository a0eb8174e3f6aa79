"""Softmax's siblings along one axis (ONNX 13 semantics): LogSoftmax and Hardmax.

Softmax itself is in reduction.py. The ONNX importer maps opsets before 13
(coerce to 2-D at ``axis``) onto these with a Reshape on either side.
"""
from __future__ import annotations

import numpy as np

from .base import Sample, register_op
from .elementwise import _rand
from .reduction import AlongAxis


@register_op
class LogSoftmax(AlongAxis):
    """x - max(x) - log(sum(exp(x - max(x)))) along ``axis``."""

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
class Hardmax(AlongAxis):
    """1 where x is the first maximum along ``axis``, else 0."""

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
