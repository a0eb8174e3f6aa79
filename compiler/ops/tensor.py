"""Tensor ops with ONNX semantics: shapes as values, broadcasting, squeezing, tiling, triangles.

Parameters that ONNX passes as inputs (Expand's shape, Tile's repeats) are
fields here; ``FromInputs`` binds them when they are only known at
run time.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import TensorType, broadcast_shapes

_I64 = np.dtype(np.int64)


def _ints(value):
    return None if value is None else tuple(int(v) for v in value)


class TensorOp(Op):
    kind: ClassVar[OpKind] = OpKind.SHAPE


@register_op
class Shape(TensorOp):
    """The input's dims ``[start:end]`` as int64 (out-of-range bounds clamp, as in Python)."""

    start: int = 0
    end: Optional[int] = None

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        n = None if t.shape is None else len(range(t.rank)[self.start:self.end])
        return (TensorType(_I64, (n,)),)

    def reference(self, x):
        return (np.array(x.shape[self.start:self.end], dtype=_I64),)

    @classmethod
    def samples(cls):
        x = _rand((2, 3, 4))
        return [Sample(cls(), (x,), lambda x: np.array([2, 3, 4], np.int64)),
                Sample(cls(-2, 10), (x,), lambda x: np.array([3, 4], np.int64))]


@register_op
class Size(TensorOp):
    """The number of elements, as an int64 scalar."""

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (TensorType(_I64, ()),)

    def reference(self, x):
        return (np.array(x.size, dtype=_I64),)

    @classmethod
    def samples(cls):
        return [Sample(cls(), (_rand((2, 5), np.int32),), lambda x: np.int64(10))]


@register_op
class Expand(TensorOp):
    """Broadcast the input with ``shape`` (either side may hold the 1s)."""

    shape: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "shape", _ints(self.shape))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, None),)
        try:
            return (TensorType(t.dtype, broadcast_shapes(t.shape, self.shape)),)
        except ValueError as exc:
            raise InferError(str(exc)) from None

    def reference(self, x):
        return (np.array(np.broadcast_to(x, np.broadcast_shapes(x.shape, self.shape))),)

    @classmethod
    def samples(cls):
        x = _rand((3, 1))
        return [Sample(cls((2, 1, 4)), (x,), lambda x: np.tile(x[None], (2, 1, 4))),
                Sample(cls((1,)), (x,), lambda x: x.copy())]


@register_op
class Flatten(TensorOp):
    """To 2-D: dims before ``axis`` make the rows, the rest the columns."""

    axis: int = 1

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, (None, None)),)
        r = len(t.shape)
        if not -r <= self.axis <= r:
            raise InferError(f"axis {self.axis} is out of range for rank {r}")
        a = self.axis + r if self.axis < 0 else self.axis

        def prod(dims):
            return None if None in dims else int(np.prod(dims, dtype=np.int64))
        return (TensorType(t.dtype, (prod(t.shape[:a]), prod(t.shape[a:]))),)

    def reference(self, x):
        a = self.axis + x.ndim if self.axis < 0 else self.axis
        rows, cols = (int(np.prod(x.shape[s], dtype=np.int64)) for s in (slice(None, a), slice(a, None)))
        return (x.reshape(rows, cols),)

    @classmethod
    def samples(cls):
        x = _rand((2, 3, 4))
        return [Sample(cls(), (x,), lambda x: np.stack([x[0].ravel(), x[1].ravel()])),
                Sample(cls(0), (x,), lambda x: x.ravel()[None]),
                Sample(cls(-1), (x,), lambda x: np.concatenate(list(x))),
                Sample(cls(3), (x,), lambda x: x.ravel()[:, None])]


@register_op
class Squeeze(TensorOp):
    """Remove the size-1 dims ``axes`` (None: every size-1 dim)."""

    axes: Optional[tuple] = None

    def __post_init__(self):
        object.__setattr__(self, "axes", _ints(self.axes))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None or (self.axes is None and None in t.shape):
            return (TensorType(t.dtype, None),)
        axes = tuple(i for i, d in enumerate(t.shape) if d == 1) if self.axes is None \
            else normalize_axes(self.axes, len(t.shape))
        if any(t.shape[a] not in (1, None) for a in axes):
            raise InferError(f"cannot squeeze axes {self.axes} of shape {list(t.shape)}")
        return (TensorType(t.dtype, tuple(d for i, d in enumerate(t.shape) if i not in axes)),)

    def reference(self, x):
        axes = None if self.axes is None else normalize_axes(self.axes, x.ndim)
        return (np.squeeze(x, axis=axes),)

    @classmethod
    def samples(cls):
        x = _rand((1, 3, 1, 2))
        return [Sample(cls(), (x,), lambda x: x.reshape(3, 2)),
                Sample(cls((-2,)), (x,), lambda x: x.reshape(1, 3, 2))]


@register_op
class Unsqueeze(TensorOp):
    """Insert size-1 dims at ``axes`` (positions in the output)."""

    axes: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "axes", _ints(self.axes))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, None),)
        axes = normalize_axes(self.axes, len(t.shape) + len(self.axes))
        dims = iter(t.shape)
        return (TensorType(t.dtype, tuple(1 if i in axes else next(dims) for i in range(len(t.shape) + len(axes)))),)

    def reference(self, x):
        return (np.expand_dims(x, normalize_axes(self.axes, x.ndim + len(self.axes))),)

    @classmethod
    def samples(cls):
        x = _rand((3, 2))
        return [Sample(cls((0, -1)), (x,), lambda x: x.reshape(1, 3, 2, 1)),
                Sample(cls((1,)), (x,), lambda x: x[:, None, :])]


@register_op
class Tile(TensorOp):
    """Repeat the input ``repeats[i]`` times along each axis i."""

    repeats: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "repeats", _ints(self.repeats))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, None),)
        if len(self.repeats) != len(t.shape):
            raise InferError(f"{len(self.repeats)} repeats for rank {len(t.shape)}")
        return (TensorType(t.dtype, tuple(None if d is None else d * r for d, r in zip(t.shape, self.repeats))),)

    def reference(self, x):
        return (np.tile(x, self.repeats),)

    @classmethod
    def samples(cls):
        x = _rand((2, 3), np.int64)
        return [Sample(cls((2, 1)), (x,), lambda x: np.concatenate([x, x])),
                Sample(cls((1, 0)), (x,), lambda x: np.zeros((2, 0), np.int64))]


@register_op
class Trilu(TensorOp):
    """Keep the upper (or lower) triangle of the last two axes, from diagonal ``k``."""

    upper: bool = True
    k: int = 0

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is not None and len(t.shape) < 2:
            raise InferError(f"expects rank >= 2, got {len(t.shape)}")
        return (t,)

    def reference(self, x):
        return ((np.triu if self.upper else np.tril)(x, self.k),)

    @classmethod
    def samples(cls):
        x = _rand((2, 3, 4))

        def expect(upper, k):
            i, j = np.arange(3)[:, None], np.arange(4)[None]
            keep = (j - i >= k) if upper else (j - i <= k)
            return lambda x: np.where(keep, x, 0).astype(x.dtype)
        return [Sample(cls(), (x,), expect(True, 0)), Sample(cls(False, -1), (x,), expect(False, -1))]
