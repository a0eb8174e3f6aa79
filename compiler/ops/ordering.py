"""Ops that order or scan along one axis, with ONNX semantics: TopK, ArgMax, ArgMin, CumSum."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import NUMERIC_DTYPES, TensorType

_I64 = np.dtype(np.int64)


@dataclass(frozen=True, repr=False)
class AxisOp(Op):
    kind: ClassVar[OpKind] = OpKind.REDUCTION
    axis: int = 0

    def axis_of(self, rank: int) -> int:
        return normalize_axes((self.axis,), rank)[0]

    def check_numeric(self, t: TensorType) -> None:
        if t.dtype not in NUMERIC_DTYPES:
            raise InferError(f"does not accept dtype {t.dtype}")


def stable_order(x: np.ndarray, descending: bool) -> np.ndarray:
    """Indices sorting the last axis; equal values keep index order (ONNX's tie rule)."""
    if not descending:
        return np.argsort(x, axis=-1, kind="stable")
    n = x.shape[-1]
    # sort the reversed row ascending and read it backwards: values descend, ties in index order
    return n - 1 - np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]


@register_op
class TopK(AxisOp):
    """The ``k`` largest (or smallest) entries along ``axis``, sorted, and their int64 indices."""

    axis: int = -1
    k: int = 1
    largest: bool = True
    sorted: bool = True

    @property
    def num_outputs(self) -> int:
        return 2

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        self.check_numeric(t)
        if t.shape is None:
            return TensorType(t.dtype, None), TensorType(_I64, None)
        a = self.axis_of(len(t.shape))
        if t.shape[a] is not None and not 0 <= self.k <= t.shape[a]:
            raise InferError(f"k={self.k} is out of range for a dim of {t.shape[a]}")
        shape = t.shape[:a] + (self.k,) + t.shape[a + 1:]
        return TensorType(t.dtype, shape), TensorType(_I64, shape)

    def reference(self, x):
        a = self.axis_of(x.ndim)
        if not 0 <= self.k <= x.shape[a]:
            raise ValueError(f"k={self.k} is out of range for a dim of {x.shape[a]}")
        xm = np.moveaxis(x, a, -1)
        idx = stable_order(xm, self.largest)[..., :self.k]
        vals = np.take_along_axis(xm, idx, axis=-1)
        return np.moveaxis(vals, -1, a), np.moveaxis(idx.astype(_I64), -1, a)

    @classmethod
    def samples(cls):
        x = np.float32([[3, 1, 3, 2], [0, 5, 5, 5]])
        return [Sample(cls(k=2), (x,), lambda x: (np.float32([[3, 3], [5, 5]]), np.int64([[0, 2], [1, 2]]))),
                Sample(cls(axis=1, k=3, largest=False), (x,),
                       lambda x: (np.float32([[1, 2, 3], [0, 5, 5]]), np.int64([[1, 3, 0], [0, 1, 2]]))),
                Sample(cls(axis=0, k=1), (_rand((2, 3), np.int64),),
                       lambda x: (x.max(0, keepdims=True), x.argmax(0)[None]))]


@dataclass(frozen=True, repr=False)
class ArgExtreme(AxisOp):
    """The int64 index of the extreme along ``axis``: the first one, or the last if ``select_last_index``."""

    keepdims: bool = True
    select_last_index: bool = False
    numpy_fn: ClassVar = None

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        self.check_numeric(t)
        if t.shape is None:
            return (TensorType(_I64, None),)
        a = self.axis_of(len(t.shape))
        shape = t.shape[:a] + ((1,) if self.keepdims else ()) + t.shape[a + 1:]
        return (TensorType(_I64, shape),)

    def reference(self, x):
        a = self.axis_of(x.ndim)
        fn = type(self).numpy_fn
        if self.select_last_index:
            idx = x.shape[a] - 1 - fn(np.flip(x, a), axis=a)
        else:
            idx = fn(x, axis=a)
        idx = np.asarray(idx, _I64)
        return (np.expand_dims(idx, a) if self.keepdims else idx,)


def _arg_samples(cls, pick):
    x = np.int32([[2, 7, 7], [4, 4, 1]])

    def expect(last, axis, keep):
        def f(x):
            rows = np.moveaxis(x, axis, -1)
            out = np.array([[i for i, v in enumerate(r) if v == pick(r)][-1 if last else 0] for r in rows])
            return np.expand_dims(out, axis) if keep else out
        return f
    return [Sample(cls(), (x,), expect(False, 0, True)),
            Sample(cls(axis=-1, keepdims=False), (x,), expect(False, 1, False)),
            Sample(cls(axis=1, select_last_index=True), (x,), expect(True, 1, True)),
            Sample(cls(axis=1), (_rand((3, 5), np.float64),), expect(False, 1, True))]


@register_op
class ArgMax(ArgExtreme):
    numpy_fn: ClassVar = staticmethod(np.argmax)

    @classmethod
    def samples(cls):
        return _arg_samples(cls, max)


@register_op
class ArgMin(ArgExtreme):
    numpy_fn: ClassVar = staticmethod(np.argmin)

    @classmethod
    def samples(cls):
        return _arg_samples(cls, min)


@dataclass(frozen=True, repr=False)
class Cumulative(AxisOp):
    """Running ``accumulate`` along ``axis``; ``exclusive`` leaves out the entry itself
    (the first output is ``start``), ``reverse`` runs from the end."""

    accumulate: ClassVar = None
    start: ClassVar[int] = 0
    exclusive: bool = False
    reverse: bool = False

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        self.check_numeric(t)
        if t.shape is not None:
            self.axis_of(len(t.shape))
        return (t,)

    def reference(self, x):
        a = self.axis_of(x.ndim)
        y = np.flip(x, a) if self.reverse else x
        if self.exclusive:      # shift by one: ``start`` first, the last entry dropped
            head = np.full_like(np.take(y, [0], axis=a), self.start) if x.shape[a] else np.take(y, [], axis=a)
            y = np.concatenate([head, np.take(y, np.arange(max(x.shape[a] - 1, 0)), axis=a)], axis=a)
        c = type(self).accumulate(y, axis=a, dtype=x.dtype)
        return (np.flip(c, a) if self.reverse else c,)


@register_op
class CumSum(Cumulative):
    """Running sums along ``axis``; ``exclusive`` leaves out the entry itself, ``reverse`` runs from the end."""

    accumulate: ClassVar = staticmethod(np.cumsum)

    @classmethod
    def samples(cls):
        x = np.float64([[1, 2, 3], [4, 5, 6]])
        return [Sample(cls(1), (x,), lambda x: np.float64([[1, 3, 6], [4, 9, 15]])),
                Sample(cls(0, exclusive=True), (x,), lambda x: np.float64([[0, 0, 0], [1, 2, 3]])),
                Sample(cls(-1, True, True), (x.astype(np.int32),), lambda x: np.int32([[5, 3, 0], [11, 6, 0]]))]
