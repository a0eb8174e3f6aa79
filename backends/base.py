"""The backend protocol: a backend turns a Graph into an Executable.

An executable takes the values of ``graph.inputs`` (placeholder nodes, in
order) and a state store, and returns the values of ``graph.outputs``.
Compilation does all per-graph work up front, so calling an executable does
no graph work.
"""
from __future__ import annotations

from typing import Optional, Protocol, Sequence

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import StateStore


class Executable(Protocol):
    #: Blob names of the inputs, in the order the call takes them.
    input_names: tuple[str, ...]

    def __call__(self, inputs: Sequence[np.ndarray], state: Optional[StateStore] = None) -> list[np.ndarray]:
        ...


def entry(exe):
    """The function a hot path calls for ``exe(inputs, state)``.

    An executable may offer ``fast_call``, a plain function doing what its
    ``__call__`` does without the extra method frame (the numba backend's
    generated wrapper); anything else is called as it is.
    """
    return getattr(exe, "fast_call", exe)


def when_compiled(exe, callback) -> None:
    """Call ``callback(faster_exe)`` when ``exe`` has a faster executable to hand over.

    A tiered executable (``on_compiled``) answers from the reference backend
    until its compiled tier is ready; a holder on a hot path registers here to
    swap in the compiled executable and skip the tier dispatch. Other
    executables never change: nothing is registered.
    """
    hook = getattr(exe, "on_compiled", None)
    if hook is not None:
        hook(callback)


class Backend(Protocol):
    name: str

    def compile(self, graph: Graph, **options) -> Executable:
        ...


class DictStateStore:
    """A plain in-memory variable store (tests and one-off evaluation)."""

    def __init__(self):
        self.values: dict[tuple, np.ndarray] = {}

    def read(self, key, initial):
        if key not in self.values:
            self.values[key] = np.array(initial, copy=True)
        return self.values[key]

    def write(self, key, value):
        self.values[key] = value
