"""Stateful ops: variables that persist across runs of one session.

A variable lives in the session's state store under ``(container, var_name)``.
``Assign``/``AssignAdd`` name the variable by attribute (lowering resolves the
frontend's ``Assign([var, value])``), so writing never depends on a read:
after ``reset()`` an Assign re-initialises the variable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from .base import ConstValue, InferError, Op, OpKind, Sample, register_op
from .types import TensorType


class StateStore(Protocol):
    """What stateful ops need from the runtime's variable store."""

    def read(self, key: tuple, initial: np.ndarray) -> np.ndarray: ...

    def write(self, key: tuple, value: np.ndarray) -> None: ...

    # optional: ``update(key, initial, fn)`` stores ``fn(current)`` atomically (AssignAdd uses it)


class StatefulOp(Op):
    kind: ClassVar[OpKind] = OpKind.STATEFUL
    stateful: ClassVar[bool] = True

    @property
    def key(self) -> tuple:
        return (self.container or "", self.var_name)

    def reference(self, *inputs):
        raise InferError(f"{self.name} needs a state store: use reference_stateful")

    def reference_stateful(self, state: StateStore, *inputs) -> tuple[np.ndarray, ...]:
        raise NotImplementedError


@register_op
class Variable(StatefulOp):
    """Read the variable ``var_name``; initialised from ``initial`` on first use."""

    arity: ClassVar[int] = 0
    min_inputs: ClassVar[int] = 0
    var_name: str = ""
    initial: ConstValue = None
    container: str = ""

    def __post_init__(self):
        if not isinstance(self.initial, ConstValue):
            object.__setattr__(self, "initial", ConstValue(self.initial))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (self.initial.type,)

    def reference_stateful(self, state, *inputs):
        return (state.read(self.key, self.initial.array),)

    @classmethod
    def samples(cls):
        init = np.array([1.0, 2.0], np.float32)
        return [Sample(cls("v", ConstValue(init)), (), lambda: np.array([1, 2], np.float32))]


@dataclass(frozen=True)
class _Update(StatefulOp):
    arity: ClassVar[int] = 1
    var_name: str = ""
    var_type: TensorType = None
    container: str = ""

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if not self.var_type.accepts(t) and t.dtype != self.var_type.dtype:
            raise InferError(f"variable {self.var_name!r} is {self.var_type}, value is {t}")
        return (self.var_type if self.var_type.shape is not None else t,)


@register_op
class Assign(_Update):
    """var := value; outputs the variable's new value."""

    def reference_stateful(self, state, value):
        new = np.array(value, dtype=self.var_type.dtype, copy=True)
        if self.var_type.shape is not None and new.shape != self.var_type.shape:
            raise InferError(f"variable {self.var_name!r} is {self.var_type}, value is {TensorType.of(new)}")
        state.write(self.key, new)
        return (new,)

    @classmethod
    def samples(cls):
        t = TensorType(np.float32, (2,))
        return [Sample(cls("v", t), (np.array([3.0, 4.0], np.float32),), lambda v: v.copy())]


@register_op
class AssignAdd(_Update):
    """var += delta; outputs the variable's new value."""

    initial: ConstValue = None

    def reference_stateful(self, state, delta):
        init = self.initial.array if self.initial is not None else np.zeros(self.var_type.shape, self.var_type.dtype)
        def add(current):
            # np.asarray: on 0-d operands ``+`` gives a NumPy scalar, which compiled readers reject
            return np.asarray(current + delta).astype(self.var_type.dtype)
        update = getattr(state, "update", None)
        if update is not None:      # the session's stores: concurrent runs lose no increment
            return (update(self.key, init, add),)
        new = add(state.read(self.key, init))
        state.write(self.key, new)
        return (new,)

    @classmethod
    def samples(cls):
        t = TensorType(np.float32, (2,))
        init = ConstValue(np.array([1.0, 2.0], np.float32))
        return [Sample(cls("v", t, initial=init), (np.array([3.0, 4.0], np.float32),),
                       lambda d: np.array([1.0, 2.0], np.float32) + d)]
