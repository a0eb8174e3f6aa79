"""Counters (Caffe2's counter_ops): a blob holding a thread-safe count.

``CreateCounter`` makes a fresh counter (a host value: a 0-d object array
holding a ``Counter``); ``CountUp``, ``RetrieveCount`` and ``ResetCounter``
act on it atomically, so concurrent substeps and task instances sharing one
counter blob never lose a count. Counters are host ops: they run in Python,
never inside generated code. ``CountUp`` and ``ResetCounter`` mutate their
input counter, so their samples' expectations read the counter after the op.
"""
from __future__ import annotations

import threading
from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .types import DTYPES, TensorType

_I64 = DTYPES["i64"]
_I64_MIN, _I64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
_COUNTER_TYPE = TensorType(DTYPES["str"], ())


class Counter:
    """An integer count behind a lock; equal to another counter with the same count."""

    __slots__ = ("_count", "_lock")

    def __init__(self, count: int = 0):
        self._count = int(count)
        self._lock = threading.Lock()

    def count_up(self) -> int:
        """Add one; return the count before. InferError past int64's largest value."""
        with self._lock:
            prev = self._count
            if prev >= _I64_MAX:
                raise InferError(f"the counter is at {prev}, int64's largest value: counting up would overflow")
            self._count += 1
            return prev

    def reset(self, value: int = 0) -> int:
        """Set the count; return the count before."""
        with self._lock:
            prev, self._count = self._count, int(value)
            return prev

    @property
    def count(self) -> int:
        return self._count

    def __eq__(self, other) -> bool:
        return isinstance(other, Counter) and other._count == self._count

    __hash__ = None

    def __reduce__(self):  # copy/deepcopy/pickle: same count, a new lock
        return (Counter, (self._count,))

    def __repr__(self) -> str:
        return f"Counter({self._count})"


def counter_value(count: int = 0) -> np.ndarray:
    """A counter as a blob value."""
    arr = np.empty((), dtype=object)
    arr[()] = Counter(count)
    return arr


def _counter(x) -> Counter:
    c = x.item() if isinstance(x, np.ndarray) and x.dtype == object else x
    if not isinstance(c, Counter):
        raise InferError(f"expects a counter (made by CreateCounter), got {type(c).__name__}")
    return c


class _CounterOp(Op):
    kind: ClassVar[OpKind] = OpKind.HOST
    host: ClassVar[bool] = True
    stateful: ClassVar[bool] = True

    def __post_init__(self):
        count = getattr(self, "init_count", 0)
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) \
                or not _I64_MIN <= int(count) <= _I64_MAX:
            raise InferError(f"init_count must be an int64, got {count!r}"[:120])

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        if inputs and inputs[0].dtype != _COUNTER_TYPE.dtype:
            raise InferError(f"expects a counter (made by CreateCounter), got {inputs[0]}")
        return (TensorType(_I64, ()),)

    def reference_stateful(self, state, *inputs):
        """The same as ``reference``: the count lives in the counter blob, not in the
        store (for backends that route every op marked ``stateful`` through the store)."""
        return self.reference(*inputs)


@register_op
class CreateCounter(_CounterOp):
    """A new counter starting at ``init_count``."""

    arity: ClassVar[int] = 0
    min_inputs: ClassVar[int] = 0
    init_count: int = 0

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (_COUNTER_TYPE,)

    def reference(self):
        return (counter_value(self.init_count),)

    @classmethod
    def samples(cls):
        return [Sample(cls(3), (), lambda: counter_value(3))]


@register_op
class CountUp(_CounterOp):
    """Add one to the counter; outputs the count before (atomically)."""

    def reference(self, c):
        return (np.array(_counter(c).count_up(), _I64),)

    @classmethod
    def samples(cls):
        return [Sample(cls(), (counter_value(5),), lambda c: np.array(_counter(c).count - 1, _I64))]


@register_op
class RetrieveCount(_CounterOp):
    """The counter's current count."""

    def reference(self, c):
        return (np.array(_counter(c).count, _I64),)

    @classmethod
    def samples(cls):
        return [Sample(cls(), (counter_value(7),), lambda c: np.array(7, _I64))]


@register_op
class ResetCounter(_CounterOp):
    """Set the counter to ``init_count``; outputs the count before."""

    init_count: int = 0

    def reference(self, c):
        return (np.array(_counter(c).reset(self.init_count), _I64),)

    @classmethod
    def samples(cls):
        return [Sample(cls(0), (counter_value(4),), lambda c: np.array(4, _I64))]
