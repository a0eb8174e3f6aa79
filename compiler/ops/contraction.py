"""Contractions: MatMul (NumPy matmul with batch broadcasting) and Caffe2's FC."""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import NUMERIC_DTYPES, TensorType, broadcast_shapes, promote


def _dims_agree(a, b) -> bool:
    return a is None or b is None or a == b


@register_op
class MatMul(Op):
    """a @ b with NumPy batch broadcasting; ``trans_a``/``trans_b`` swap the last two axes."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar[int] = 2
    trans_a: bool = False
    trans_b: bool = False

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        a, b = inputs
        for t in (a, b):
            if t.dtype not in NUMERIC_DTYPES:
                raise InferError(f"does not accept dtype {t.dtype}")
        dtype = promote(a.dtype, b.dtype)
        if a.shape is None or b.shape is None:
            return (TensorType(dtype, None),)
        if len(a.shape) < 1 or len(b.shape) < 1:
            raise InferError("inputs must have rank >= 1")
        sa, sb = list(a.shape), list(b.shape)
        if self.trans_a and len(sa) >= 2:
            sa[-1], sa[-2] = sa[-2], sa[-1]
        if self.trans_b and len(sb) >= 2:
            sb[-1], sb[-2] = sb[-2], sb[-1]
        va, vb = len(sa) == 1, len(sb) == 1
        if va:
            sa = [1] + sa
        if vb:
            sb = sb + [1]
        if not _dims_agree(sa[-1], sb[-2]):
            raise InferError(f"inner dimensions differ: {a} @ {b}")
        try:
            batch = broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError as exc:
            raise InferError(str(exc)) from None
        shape = list(batch) + ([] if va else [sa[-2]]) + ([] if vb else [sb[-1]])
        return (TensorType(dtype, tuple(shape)),)

    def reference(self, a, b):
        if self.trans_a and a.ndim >= 2:
            a = np.swapaxes(a, -1, -2)
        if self.trans_b and b.ndim >= 2:
            b = np.swapaxes(b, -1, -2)
        dtype = promote(a.dtype, b.dtype)
        return (np.matmul(a.astype(dtype, copy=False), b.astype(dtype, copy=False)),)

    @classmethod
    def samples(cls):
        def einsum(a, b):
            if a.ndim == 1:
                return np.einsum("k,...kn->...n", a, b)
            if b.ndim == 1:
                return np.einsum("...mk,k->...m", a, b)
            return np.einsum("...mk,...kn->...mn", a, b)
        return [Sample(cls(), (_rand((3, 4)), _rand((4, 5))), einsum),
                Sample(cls(), (_rand((2, 3, 4)), _rand((4, 2))), einsum),
                Sample(cls(), (_rand((2, 1, 3, 4)), _rand((3, 4, 2))), einsum),
                Sample(cls(), (_rand((4,)), _rand((4, 3))), einsum),
                Sample(cls(), (_rand((3, 4), np.float64), _rand((4,))), einsum),
                Sample(cls(trans_b=True), (_rand((3, 4)), _rand((5, 4))),
                       lambda a, b: einsum(a, b.T)),
                Sample(cls(), (_rand((2, 3), np.int64), _rand((3, 2), np.int32)), einsum)]


@register_op
class FC(Op):
    """Caffe2's FC: X flattened to 2-D at ``axis``, then X·Wᵀ + b."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar[int] = 3
    axis: int = 1

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        x, w, b = inputs
        for t in inputs:
            if t.dtype not in NUMERIC_DTYPES:
                raise InferError(f"does not accept dtype {t.dtype}")
        dtype = promote(x.dtype, w.dtype, b.dtype)
        if w.shape is not None and len(w.shape) != 2:
            raise InferError(f"W must be 2-D [N, K], got {w}")
        if b.shape is not None and len(b.shape) != 1:
            raise InferError(f"b must be 1-D [N], got {b}")
        n = None if w.shape is None else w.shape[0]
        if b.shape is not None and not _dims_agree(n, b.shape[0]):
            raise InferError(f"W is {w} but b is {b}")
        if x.shape is None:
            return (TensorType(dtype, None),)
        if not 1 <= self.axis <= len(x.shape):
            raise InferError(f"axis {self.axis} out of range for {x}")
        outer, inner = x.shape[:self.axis], x.shape[self.axis:]
        k = None if None in inner else int(np.prod(inner))
        if w.shape is not None and not _dims_agree(k, w.shape[1]):
            raise InferError(f"X is {x} (K={k}) but W is {w}")
        m = None if None in outer else int(np.prod(outer))
        return (TensorType(dtype, (m, n if n is not None else (b.shape or [None])[0])),)

    def reference(self, x, w, b):
        dtype = promote(x.dtype, w.dtype, b.dtype)
        m, k = int(np.prod(x.shape[:self.axis])), int(np.prod(x.shape[self.axis:]))
        x2 = x.reshape(m, k).astype(dtype, copy=False)          # not (m, -1): m may be 0
        return (x2 @ w.astype(dtype, copy=False).T + b.astype(dtype, copy=False),)

    @classmethod
    def samples(cls):
        def expect(x, w, b):
            x2 = x.reshape(x.shape[0], -1)
            return np.einsum("mk,nk->mn", x2, w) + b[None, :]
        return [Sample(cls(), (_rand((4, 3)), _rand((5, 3)), _rand((5,))), expect),
                Sample(cls(), (_rand((2, 3, 2)), _rand((4, 6)), _rand((4,))), expect)]
