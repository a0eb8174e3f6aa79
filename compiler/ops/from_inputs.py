"""An op whose attributes arrive as tensors at run time (ONNX's non-constant shape inputs).

    FromInputs(Reshape(), ("shape",))(x, s)  ==  Reshape(shape=tuple(s))(x)
    FromInputs(Tile(), ("repeats",), rank=2)(x, r)  ==  Tile(repeats=tuple(r))(x)

The inner op states the meaning; ``FromInputs`` only binds the named fields
from its trailing inputs (one input per name) before running it. Its output
shapes depend on input values, so ``infer`` knows at most their rank.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, register_op
from .types import TensorType


def field_value(annotation: str, value: np.ndarray):
    """A run-time tensor as the Python value an op field of ``annotation`` holds."""
    arr = np.asarray(value)
    if annotation in ("int", "float", "bool"):
        if arr.size != 1:
            raise InferError(f"expected one value for a {annotation} attribute, got shape {arr.shape}")
        return {"int": int, "float": float, "bool": bool}[annotation](arr.reshape(-1)[0])
    if "tuple" in annotation:
        return tuple(v.item() for v in arr.reshape(-1))
    return arr.item() if arr.ndim == 0 else tuple(v.item() for v in arr.reshape(-1))


@register_op
class FromInputs(Op):
    """Run ``op`` with the fields ``names`` taken from the last ``len(names)`` inputs.

    ``rank`` is the rank of every output when the converter knows it (None:
    unknown); each dim is unknown, as it depends on the bound values.
    """

    kind: ClassVar[OpKind] = OpKind.SHAPE
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 1
    no_samples_reason: ClassVar[str] = ("output shapes depend on input values, which infer() cannot see: "
                                        "tested in tests/compiler/ops/test_tensor_ops.py")
    op: Optional[Op] = None
    names: tuple = ()
    rank: Optional[int] = None

    def __post_init__(self):
        object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        if self.op is None or not self.names:
            raise InferError("FromInputs needs an op and the names of the fields it binds")
        fields = {f.name for f in dataclasses.fields(self.op)}
        missing = [n for n in self.names if n not in fields]
        if missing:
            raise InferError(f"{self.op.name} has no field {missing[0]!r}")

    @property
    def num_outputs(self) -> int:
        return self.op.num_outputs

    def check_arity(self, n: int) -> None:
        inner = n - len(self.names)
        if inner < 0:
            raise InferError(f"expects {len(self.names)} inputs for {list(self.names)}, got {n}")
        self.op.check_arity(inner)

    def bind(self, *values: np.ndarray) -> Op:
        """The inner op with its fields set from ``values``."""
        types = {f.name: str(f.type) for f in dataclasses.fields(self.op)}
        return dataclasses.replace(self.op, **{n: field_value(types[n], v) for n, v in zip(self.names, values)})

    def infer(self, *inputs: TensorType):
        self.check_arity(len(inputs))
        data = inputs[:len(inputs) - len(self.names)]
        inner = self.op.infer(*(TensorType(t.dtype, None) for t in data))
        shape = None if self.rank is None else (None,) * self.rank
        return tuple(TensorType(t.dtype, shape) for t in inner)

    def reference(self, *inputs):
        k = len(inputs) - len(self.names)
        try:
            op = self.bind(*inputs[k:])
        except InferError as exc:
            raise ValueError(str(exc)) from None
        return op.reference(*inputs[:k])
