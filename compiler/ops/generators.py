"""Ops that make tensors from parameters, with ONNX semantics: EyeLike, ConstantOfShape, Range.

Range's and ConstantOfShape's parameters are ONNX inputs; ``FromInputs`` binds
them when they are only known at run time.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import ConstValue, InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import TensorType, as_dtype

_I64 = np.dtype(np.int64)


def _ints(value):
    return None if value is None else tuple(int(v) for v in value)


class SourceOp(Op):
    kind: ClassVar[OpKind] = OpKind.SOURCE
    arity: ClassVar[int] = 0
    min_inputs: ClassVar[int] = 0


@register_op
class EyeLike(Op):
    """Ones on diagonal ``k`` of a matrix shaped like the input, in ``dtype`` (None: the input's)."""

    kind: ClassVar[OpKind] = OpKind.SHAPE

    k: int = 0
    dtype: Optional[np.dtype] = None

    def __post_init__(self):
        if self.dtype is not None:
            object.__setattr__(self, "dtype", as_dtype(self.dtype))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is not None and len(t.shape) != 2:
            raise InferError(f"expects a 2-D input, got rank {len(t.shape)}")
        return (TensorType(self.dtype or t.dtype, t.shape),)

    def reference(self, x):
        return (np.eye(x.shape[0], x.shape[1], self.k, dtype=self.dtype or x.dtype),)

    @classmethod
    def samples(cls):
        x = _rand((3, 4), np.int32)
        return [Sample(cls(), (x,), lambda x: (np.arange(3)[:, None] == np.arange(4)).astype(np.int32)),
                Sample(cls(-1, np.dtype(np.float64)), (x,),
                       lambda x: (np.arange(3)[:, None] - 1 == np.arange(4)) * 1.0)]


@register_op
class ConstantOfShape(SourceOp):
    """A tensor of ``shape`` filled with the one element of ``value`` (default f32 0)."""

    shape: tuple = ()
    value: ConstValue = ConstValue(np.zeros(1, np.float32))

    def __post_init__(self):
        object.__setattr__(self, "shape", _ints(self.shape))
        if self.value.array.size != 1:
            raise InferError(f"value must have one element, got shape {self.value.array.shape}")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (TensorType(self.value.array.dtype, self.shape),)

    def reference(self):
        return (np.full(self.shape, self.value.array.reshape(-1)[0], dtype=self.value.array.dtype),)

    @classmethod
    def samples(cls):
        return [Sample(cls((2, 3)), (), lambda: np.zeros((2, 3), np.float32)),
                Sample(cls((4,), ConstValue(np.array([7], np.int64))), (), lambda: np.array([7] * 4))]


@register_op
class Range(SourceOp):
    """``start, start + delta, ...`` up to (excluding) ``limit``, in ``dtype``."""

    start: float = 0
    limit: float = 0
    delta: float = 1
    dtype: np.dtype = _I64

    def __post_init__(self):
        object.__setattr__(self, "dtype", as_dtype(self.dtype))
        if self.delta == 0:
            raise InferError("Range delta cannot be 0")

    def length(self) -> int:
        return max(int(np.ceil((self.limit - self.start) / self.delta)), 0)

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (TensorType(self.dtype, (self.length(),)),)

    def reference(self):
        wide = np.float64 if self.dtype.kind == "f" else np.int64   # ONNX computes wide, then casts
        start, delta = np.array(self.start, wide), np.array(self.delta, wide)
        return ((start + np.arange(self.length(), dtype=wide) * delta).astype(self.dtype),)

    @classmethod
    def samples(cls):
        return [Sample(cls(1, 10, 3), (), lambda: np.array([1, 4, 7], np.int64)),
                Sample(cls(5.0, 1.0, -1.5, np.dtype(np.float32)), (), lambda: np.float32([5, 3.5, 2])),
                Sample(cls(3, 1, 1, np.dtype(np.int32)), (), lambda: np.zeros(0, np.int32))]
