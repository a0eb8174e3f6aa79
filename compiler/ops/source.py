"""Source ops: values that come from outside the graph or are baked into it."""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import ConstValue, InferError, Op, OpKind, Sample, register_op
from .types import DTYPES, TensorType, as_dtype


@register_op
class Placeholder(Op):
    """A value fed at run time; ``shape`` entries may be None (dynamic)."""

    kind: ClassVar[OpKind] = OpKind.SOURCE
    arity: ClassVar[int] = 0
    min_inputs: ClassVar[int] = 0
    dtype: np.dtype = DTYPES["f32"]
    shape: Optional[tuple] = None

    def __post_init__(self):
        object.__setattr__(self, "dtype", as_dtype(self.dtype))
        if self.shape is not None:
            object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in self.shape))

    @property
    def type(self) -> TensorType:
        return TensorType(self.dtype, self.shape)

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (self.type,)

    def reference(self):
        raise InferError("a Placeholder has no value unless fed")


@register_op
class Const(Op):
    """A constant tensor (or a host string value)."""

    kind: ClassVar[OpKind] = OpKind.SOURCE
    arity: ClassVar[int] = 0
    min_inputs: ClassVar[int] = 0
    value: ConstValue = None

    def __post_init__(self):
        if not isinstance(self.value, ConstValue):
            object.__setattr__(self, "value", ConstValue(self.value))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (self.value.type,)

    def reference(self):
        return (self.value.array,)

    @classmethod
    def samples(cls):
        arr = np.arange(6, dtype=np.float32).reshape(2, 3)
        return [Sample(cls(ConstValue(arr)), (), lambda: np.array([[0, 1, 2], [3, 4, 5]], np.float32)),
                Sample(cls(ConstValue(np.int64(5))), (), lambda: np.array(5, np.int64)),
                Sample(cls(ConstValue("hi")), (), lambda: np.array("hi", dtype=object))]
