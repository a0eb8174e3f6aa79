"""Scoped: context-manager classes with a per-thread stack of active instances.

NetBuilder, Task, TaskGroup, Node and Cluster are each "the current one"
inside their ``with`` block, as in Caffe2's ``context.py``.
"""
from __future__ import annotations

import threading

from netjit.errors import FailedPreconditionError


class Scoped:
    """Context-manager classes with a per-thread stack of active instances."""

    _local = threading.local()

    @classmethod
    def _stack(cls) -> list:
        """The stack of the context family (subclasses share their base's: a _Loop is a NetBuilder)."""
        family = next(k for k in cls.__mro__ if Scoped in k.__bases__)
        stacks = Scoped._local.__dict__.setdefault("stacks", {})
        return stacks.setdefault(family, [])

    @classmethod
    def current(cls, value=None, required: bool = True):
        """``value`` if given, else the innermost active instance (or the default one)."""
        if value is not None:
            return value
        stack = cls._stack()
        if stack:
            return stack[-1]
        default = cls._default()
        if default is None and required:
            raise FailedPreconditionError(f"no active {cls.__name__}")
        return default

    @classmethod
    def _default(cls):
        return None

    def __enter__(self):
        self._stack().append(self)
        return self

    def __exit__(self, *exc) -> None:
        stack = self._stack()
        assert stack and stack[-1] is self, f"{type(self).__name__} contexts exited out of order"
        stack.pop()
