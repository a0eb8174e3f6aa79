"""Indexing ops with ONNX semantics: gathers, scatters, one-hot, and data-dependent selections.

Indices may be negative (counted from the end of their axis); an index out
of range is an error, never a clamp.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import INT_DTYPES, TensorType

_I64 = np.dtype(np.int64)
#: How ScatterElements / ScatterND combine an update with the value already there.
SCATTER_REDUCTIONS = {"none": lambda old, new: new, "add": np.add, "mul": np.multiply,
                      "max": np.maximum, "min": np.minimum}


class IndexOp(Op):
    kind: ClassVar[OpKind] = OpKind.SHAPE


def _axis(axis: int, rank: Optional[int]) -> Optional[int]:
    return None if rank is None else normalize_axes((axis,), rank)[0]


def _check_indices(t: TensorType) -> None:
    if t.dtype not in INT_DTYPES:
        raise InferError(f"indices must be int32 or int64, got {t.dtype}")


def _wrap(indices: np.ndarray, dim: int) -> np.ndarray:
    """Negative indices counted from the end; out of range raises."""
    idx = np.where(indices < 0, indices + dim, indices).astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= dim):
        raise IndexError(f"index out of range for a dim of {dim}: {indices.min()}..{indices.max()}")
    return idx


@register_op
class Gather(IndexOp):
    """``np.take(data, indices, axis)``: entries of ``data`` along ``axis`` picked by ``indices``."""

    arity: ClassVar[int] = 2
    axis: int = 0

    def infer(self, data, indices):
        _check_indices(indices)
        if data.shape is None or indices.shape is None:
            return (TensorType(data.dtype, None),)
        a = _axis(self.axis, len(data.shape))
        return (TensorType(data.dtype, data.shape[:a] + indices.shape + data.shape[a + 1:]),)

    def reference(self, data, indices):
        a = _axis(self.axis, data.ndim)
        return (np.take(data, _wrap(indices, data.shape[a]), axis=a),)

    @classmethod
    def samples(cls):
        x, i = _rand((3, 4)), np.array([[0, -1], [2, 2]], np.int64)
        return [Sample(cls(), (x, i), lambda x, i: np.stack([np.stack([x[0], x[2]]), np.stack([x[2], x[2]])])),
                Sample(cls(1), (x, np.int32(3)), lambda x, i: x[:, 3])]


@register_op
class GatherElements(IndexOp):
    """``out[i][j][k] = data[index[i][j][k]][j][k]`` for ``axis`` 0 (``np.take_along_axis``)."""

    arity: ClassVar[int] = 2
    axis: int = 0

    def infer(self, data, indices):
        _check_indices(indices)
        if data.rank is not None and indices.rank is not None and data.rank != indices.rank:
            raise InferError(f"data has rank {data.rank}, indices rank {indices.rank}")
        return (TensorType(data.dtype, indices.shape),)

    def reference(self, data, indices):
        a = _axis(self.axis, data.ndim)
        return (np.take_along_axis(data, _wrap(indices, data.shape[a]), axis=a),)

    @classmethod
    def samples(cls):
        x, i = _rand((2, 3)), np.array([[2, 0], [-1, 1]], np.int64)
        return [Sample(cls(1), (x, i), lambda x, i: np.array([[x[0, 2], x[0, 0]], [x[1, 2], x[1, 1]]])),
                Sample(cls(0), (x, np.array([[1, 0, 1]], np.int32)), lambda x, i: np.array([[x[1, 0], x[0, 1], x[1, 2]]]))]


@register_op
class GatherND(IndexOp):
    """Slices of ``data`` addressed by the last axis of ``indices``, after ``batch_dims`` shared dims."""

    arity: ClassVar[int] = 2
    batch_dims: int = 0

    def infer(self, data, indices):
        _check_indices(indices)
        if data.shape is None or indices.shape is None or indices.shape[-1] is None:
            return (TensorType(data.dtype, None),)
        b, m = self.batch_dims, indices.shape[-1]
        if b + m > len(data.shape):
            raise InferError(f"{m} index components after {b} batch dims for rank {len(data.shape)}")
        return (TensorType(data.dtype, indices.shape[:-1] + data.shape[b + m:]),)

    def reference(self, data, indices):
        b, m = self.batch_dims, indices.shape[-1]
        batch = int(np.prod(data.shape[:b], dtype=np.int64))
        flat = data.reshape((batch,) + data.shape[b:])
        idx = indices.reshape(batch, -1, m)
        rows = [[flat[i][tuple(_wrap(ix, flat.shape[1 + k])[()] for k, ix in enumerate(row))]
                 for row in idx[i]] for i in range(batch)]
        out = np.array(rows, dtype=data.dtype).reshape(indices.shape[:-1] + data.shape[b + m:])
        return (out,)

    @classmethod
    def samples(cls):
        x = np.arange(8, dtype=np.int32).reshape(2, 2, 2)
        return [Sample(cls(), (x, np.array([[0, 1], [1, 0]], np.int64)), lambda x, i: np.int32([[2, 3], [4, 5]])),
                Sample(cls(1), (x, np.array([[1], [0]], np.int64)), lambda x, i: np.int32([[2, 3], [4, 5]]))]


def _check_scatter(reduction: str) -> None:
    if reduction not in SCATTER_REDUCTIONS:
        raise InferError(f"unknown reduction {reduction!r}; expected one of {sorted(SCATTER_REDUCTIONS)}")


@register_op
class ScatterElements(IndexOp):
    """A copy of ``data`` with ``updates`` written at ``indices`` along ``axis`` (combined by ``reduction``)."""

    arity: ClassVar[int] = 3
    axis: int = 0
    reduction: str = "none"

    def __post_init__(self):
        _check_scatter(self.reduction)

    def infer(self, data, indices, updates):
        _check_indices(indices)
        return (data,)

    def reference(self, data, indices, updates):
        a = _axis(self.axis, data.ndim)
        out, combine = data.copy(), SCATTER_REDUCTIONS[self.reduction]
        idx = _wrap(indices, data.shape[a])
        for pos in np.ndindex(*indices.shape):
            target = pos[:a] + (idx[pos],) + pos[a + 1:]
            out[target] = combine(out[target], updates[pos])
        return (out,)

    @classmethod
    def samples(cls):
        x, i, u = np.zeros((2, 3), np.float32), np.array([[2, 2]], np.int64), np.float32([[1.5, 2.0]])
        return [Sample(cls(1), (x, i, u), lambda x, i, u: np.float32([[0, 0, 2], [0, 0, 0]])),
                Sample(cls(1, "add"), (x, i, u), lambda x, i, u: np.float32([[0, 0, 3.5], [0, 0, 0]]))]


@register_op
class ScatterND(IndexOp):
    """A copy of ``data`` with the slices addressed by ``indices``' last axis set from ``updates``."""

    arity: ClassVar[int] = 3
    reduction: str = "none"

    def __post_init__(self):
        _check_scatter(self.reduction)

    def infer(self, data, indices, updates):
        _check_indices(indices)
        return (data,)

    def reference(self, data, indices, updates):
        m = indices.shape[-1]
        out, combine = data.copy(), SCATTER_REDUCTIONS[self.reduction]
        idx = indices.reshape(-1, m)
        ups = updates.reshape((idx.shape[0],) + data.shape[m:])
        for row, up in zip(idx, ups):
            target = tuple(int(_wrap(v, data.shape[k])) for k, v in enumerate(row))
            out[target] = combine(out[target], up)
        return (out,)

    @classmethod
    def samples(cls):
        x = np.arange(6, dtype=np.int64).reshape(3, 2)
        i, u = np.array([[2], [0]], np.int64), np.array([[10, 11], [12, 13]], np.int64)
        return [Sample(cls(), (x, i, u), lambda x, i, u: np.int64([[12, 13], [2, 3], [10, 11]])),
                Sample(cls("mul"), (x, i, u), lambda x, i, u: np.int64([[0, 13], [2, 3], [40, 55]]))]


@register_op
class OneHot(IndexOp):
    """``values[1]`` where ``indices`` (negative: from ``depth``) hit a position of a new ``axis``
    of length ``depth``, ``values[0]`` elsewhere (also for out-of-range indices)."""

    arity: ClassVar[int] = 2
    depth: int = 2
    axis: int = -1

    def infer(self, indices, values):
        if indices.shape is None:
            return (TensorType(values.dtype, None),)
        a = _axis(self.axis, len(indices.shape) + 1)
        return (TensorType(values.dtype, indices.shape[:a] + (self.depth,) + indices.shape[a:]),)

    def reference(self, indices, values):
        idx = np.asarray(indices).astype(np.int64)
        idx = np.where(idx < 0, idx + self.depth, idx)
        hot = idx[..., None] == np.arange(self.depth)
        out = np.where(hot, values[1], values[0]).astype(values.dtype)
        return (np.moveaxis(out, -1, _axis(self.axis, idx.ndim + 1)),)

    @classmethod
    def samples(cls):
        i, v = np.array([0, -1, 5], np.int64), np.float32([0, 3])
        return [Sample(cls(3), (i, v), lambda i, v: np.float32([[3, 0, 0], [0, 0, 3], [0, 0, 0]])),
                Sample(cls(3, 0), (i, v), lambda i, v: np.float32([[3, 0, 0], [0, 0, 0], [0, 3, 0]]))]


@register_op
class NonZero(IndexOp):
    """The indices of the non-zero elements, one row per axis (int64, shape [rank, count])."""

    no_samples_reason: ClassVar[str] = "the output length depends on the values: tests/compiler/ops/test_indexing.py"

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        return (TensorType(_I64, (t.rank, None)),)

    def reference(self, x):
        if x.ndim == 0:  # no axes to index: zero rows, one column per non-zero element
            return (np.zeros((0, int(x != 0)), _I64),)
        return (np.array(np.nonzero(x), dtype=_I64),)


@register_op
class Compress(IndexOp):
    """The slices along ``axis`` (None: of the flattened input) where ``condition`` is true."""

    arity: ClassVar[int] = 2
    no_samples_reason: ClassVar[str] = "the output length depends on the values: tests/compiler/ops/test_indexing.py"
    axis: Optional[int] = None

    def infer(self, data, condition):
        if self.axis is None:
            return (TensorType(data.dtype, (None,)),)
        if data.shape is None:
            return (TensorType(data.dtype, None),)
        a = _axis(self.axis, len(data.shape))
        return (TensorType(data.dtype, data.shape[:a] + (None,) + data.shape[a + 1:]),)

    def reference(self, data, condition):
        axis = None if self.axis is None else _axis(self.axis, data.ndim)
        return (np.compress(np.asarray(condition, bool).reshape(-1), data, axis=axis),)
