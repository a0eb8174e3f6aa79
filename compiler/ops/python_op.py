"""The Python host op: ``net.Python(f)(inputs, outputs)`` runs ``f`` on the host.

``f(inputs, outputs)`` gets the input arrays and sets ``outputs[i] = array``
(or ``outputs[i].feed(array)``, as in Caffe2). In the builder form
``net.Python((builder, args, kwargs))`` the function is made by
``builder(*args, **kwargs)`` once per op instance: once per workspace the op
runs in, so each runtime-cloned task instance (a step with
``create_workspace``) gets its own function. The runtime says which instance
is current with ``instance_scope``; outside any scope (a direct Session, the
registry tests) one default instance per op is used.

Host ops run in Python, never inside generated code; a backend must run them
on the calling thread (or in a copy of its ``contextvars`` context) so the
instance scope is seen.
"""
from __future__ import annotations

import contextlib
import contextvars
import threading
from typing import Any, Callable, ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .types import DTYPES, TensorType, as_dtype

_SCOPE: contextvars.ContextVar[Optional[dict]] = contextvars.ContextVar("netjit_op_instances", default=None)
_BUILD_LOCK = threading.Lock()


def add_note(exc: BaseException, note: str) -> None:
    """Attach context to an exception without changing its type (PEP 678; 3.10 keeps a list)."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # Python 3.10
        exc.__notes__ = list(getattr(exc, "__notes__", ())) + [note]


@contextlib.contextmanager
def instance_scope(instances: dict):
    """Make ``instances`` (a workspace's own dict) hold the op instances built inside."""
    token = _SCOPE.set(instances)
    try:
        yield
    finally:
        _SCOPE.reset(token)


class PyFunc:
    """A host function, or a builder of one; compared by identity (each op is its own)."""

    __slots__ = ("func", "builder", "args", "kwargs", "_default")

    def __init__(self, f):
        self.func: Optional[Callable] = None
        self.builder: Optional[Callable] = None
        self._default = None
        if isinstance(f, tuple):
            self.builder, self.args, self.kwargs = (tuple(f) + ((), {}))[:3]
            if not callable(self.builder):
                raise InferError(f"Python op builder {self.builder!r} is not callable")
        elif callable(f):
            self.func, self.args, self.kwargs = f, (), {}
        else:
            raise InferError(f"Python op expects a function or (builder, args, kwargs), got {f!r}")

    @property
    def name(self) -> str:
        target = self.func or self.builder
        return getattr(target, "__qualname__", repr(target))

    def resolve(self) -> Callable:
        """The function of the current op instance (building it on first use)."""
        if self.builder is None:
            return self.func
        scope = _SCOPE.get()
        if scope is None:
            if self._default is None:
                with _BUILD_LOCK:
                    if self._default is None:
                        self._default = self._build()
            return self._default
        fn = scope.get(self)
        if fn is None:
            with _BUILD_LOCK:
                fn = scope.get(self)
                if fn is None:
                    fn = scope[self] = self._build()
        return fn

    def _build(self) -> Callable:
        fn = self.builder(*self.args, **dict(self.kwargs))
        if not callable(fn):
            raise InferError(f"Python op builder {self.name} returned {fn!r}, not a function")
        return fn

    def __repr__(self) -> str:
        return f"<{'builder ' if self.builder else ''}{self.name}>"


class _Slot:
    """One output of a Python op: ``feed(value)`` sets it (Caffe2's TensorCPU.feed)."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = None

    def feed(self, value) -> None:
        self.value = value

    @property
    def data(self):
        return self.value


class OutputSlots(list):
    """The ``outputs`` argument of a Python op: ``outputs[i] = v`` or ``outputs[i].feed(v)``."""

    def __init__(self, n: int):
        super().__init__(_Slot() for _ in range(n))

    def __setitem__(self, i, value) -> None:
        list.__getitem__(self, i).feed(value)


@register_op
class Python(Op):
    """Run a Python function on the host: ``f(inputs, outputs)``.

    ``dtypes`` gives each output's dtype (default float32); values are cast to it.
    """

    kind: ClassVar[OpKind] = OpKind.HOST
    host: ClassVar[bool] = True
    stateful: ClassVar[bool] = True      # side effects: never folded, merged or dropped
    arity: ClassVar[Optional[int]] = None
    min_inputs: ClassVar[int] = 0
    func: PyFunc = None
    n_outputs: int = 0
    dtypes: tuple = ()

    def __post_init__(self):
        if not isinstance(self.func, PyFunc):
            object.__setattr__(self, "func", PyFunc(self.func))
        dts = tuple(as_dtype(d) for d in self.dtypes) or (DTYPES["f32"],) * self.n_outputs
        if len(dts) != self.n_outputs:
            raise InferError(f"Python op has {self.n_outputs} outputs but {len(dts)} dtypes")
        object.__setattr__(self, "dtypes", dts)

    @property
    def builder(self):
        return self.func.builder

    @property
    def num_outputs(self) -> int:
        return self.n_outputs

    def infer(self, *inputs):
        return tuple(TensorType(d, None) for d in self.dtypes)

    def reference(self, *inputs):
        outputs = OutputSlots(self.n_outputs)
        try:
            self.func.resolve()(list(inputs), outputs)
        except Exception as exc:
            add_note(exc, f"in Python op {self.func.name}")
            raise
        result = []
        for i, (slot, dt) in enumerate(zip(outputs, self.dtypes)):
            if slot.value is None:
                raise InferError(f"Python op {self.func.name} did not set output {i}")
            result.append(np.asarray(slot.value, dtype=dt))
        return tuple(result)

    def reference_stateful(self, state, *inputs):
        """The same as ``reference``: a host op keeps no state in the store (for backends
        that route every op marked ``stateful`` through the state store)."""
        return self.reference(*inputs)

    @classmethod
    def samples(cls):
        def double(inputs, outputs):
            outputs[0] = inputs[0] * 2
        x = np.arange(6, dtype=np.float32).reshape(2, 3)
        return [Sample(cls(PyFunc(double), 1), (x,), lambda x: x + x),
                Sample(cls(PyFunc(lambda i, o: None)), (x,), lambda x: ())]


PythonOp = Python


def python_op_adder(net, f, dtypes=None) -> Callable[..., Any]:
    """What ``net.Python(f)`` returns: ``(inputs, outputs=None) -> output refs``."""
    func = PyFunc(f)

    def add(inputs=(), outputs=None):
        if outputs is None:
            n = 1
        elif isinstance(outputs, (int, np.integer)) and not isinstance(outputs, bool):
            n = int(outputs)
        elif isinstance(outputs, str):
            n = 1
        else:
            n = len(outputs)
        op = Python(func, n, tuple(dtypes or ()))
        return net._add_op("Python", inputs, outputs, {}, op=op)
    return add
