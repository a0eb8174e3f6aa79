"""Writing new tokens into a fixed-size KV cache (ONNX ``TensorScatter``).

    TensorScatter(past_cache, update[, write_indices]) -> present_cache

present = past, except that for batch b the ``update`` slices 0..L-1 along
``axis`` land at positions write_indices[b] + 0..L-1 (modulo the cache length
when ``circular``); write_indices defaults to zeros.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from netjit.errors import InvalidArgumentError

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import INT_DTYPES, TensorType


@register_op
class TensorScatter(Op):
    """past_cache with ``update`` written along ``axis`` from write_indices[b] on, per batch b."""

    kind: ClassVar[OpKind] = OpKind.SHAPE
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 2
    axis: int = -2
    circular: bool = False

    def check_arity(self, n: int) -> None:
        if n not in (2, 3):
            raise InferError(f"expects past_cache, update and optional write_indices (2 or 3 inputs), got {n}")

    def infer(self, past, update, *indices):
        self.check_arity(2 + len(indices))
        if update.dtype != past.dtype:
            raise InferError(f"update must be {past.dtype} like past_cache, got {update.dtype}")
        if indices and indices[0].dtype not in INT_DTYPES:
            raise InferError(f"write_indices must be integers, got {indices[0].dtype}")
        rank = None if past.shape is None else len(past.shape)
        if rank is not None and not (-rank <= self.axis < rank and self.axis % rank != 0):
            raise InferError(f"axis {self.axis} must name a non-batch axis of {past}")
        return (past,)

    def reference(self, past, update, indices=None):
        axis = self.axis % past.ndim
        cache, new = np.moveaxis(past.copy(), axis, 1), np.moveaxis(update, axis, 1)
        length, count = cache.shape[1], new.shape[1]
        starts = np.zeros(past.shape[0], np.int64) if indices is None else indices.astype(np.int64).reshape(-1)
        for b, start in enumerate(starts):
            rows = start + np.arange(count)
            if self.circular:
                rows %= length
            elif start < 0 or start + count > length:
                raise InvalidArgumentError(f"TensorScatter: writing {count} rows from {start} overflows a cache "
                                           f"of {length} (mode linear)")
            cache[b, rows] = new[b]
        return (np.moveaxis(cache, 1, axis),)

    @classmethod
    def samples(cls):
        def expect(axis, circular):
            def f(past, update, indices):
                out = past.copy()
                for idx in np.ndindex(*update.shape):
                    pos = list(idx)
                    pos[axis] = idx[axis] + int(indices[idx[0]])
                    if circular:
                        pos[axis] %= past.shape[axis]
                    out[tuple(pos)] = update[idx]
                return out
            return f
        past = _rand((2, 3, 5, 4))
        return [Sample(cls(), (past, _rand((2, 3, 2, 4)), np.array([1, 3], np.int64)), expect(2, False)),
                Sample(cls(axis=1, circular=True), (_rand((2, 4, 3)), _rand((2, 3, 3)), np.array([3, 0], np.int64)),
                       expect(1, True))]
