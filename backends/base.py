"""The backend contract: a ``Backend`` turns a Graph into an ``Executable``.

An executable takes the values of ``graph.inputs`` (placeholder nodes, in
order) and a state store, and returns the values of ``graph.outputs``.
Compilation does all per-graph work up front, so calling an executable does
no graph work.

Everything the pipeline, the runtime and the CLI read from an executable or a
backend is declared here, with its default; they read these attributes, never
probe for them. The implementations:

==========================  =================  ==========================================
executable                  ``tier``           notes
==========================  =================  ==========================================
``ReferenceExecutable``     "reference"        no cache, no source
``HostExecutable``          "reference"        a segment a compiled backend could not
                                               lower; ``host_reason`` says why
``NumbaExecutable``         "numba"            ``source`` and ``wrapper_source``: Python
``NativeExecutable``        "native"           ``source``: LLVM IR (``source_suffix``)
``TieredExecutable``        changes at run     ``tiered``: reference now, compiled later
                                               (``wait``, ``on_compiled``)
==========================  =================  ==========================================
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, ClassVar, Optional, Sequence

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import StateStore


class Executable(ABC):
    """A compiled graph: ``exe(inputs, state) -> outputs``."""

    __slots__ = ()

    #: the graph's (segment's) name, for messages
    name: str
    #: blob names of the inputs, in the order the call takes them
    input_names: tuple[str, ...]
    #: what runs a call, for run metadata: "reference", "numba" or "native". A tiered
    #: executable's tier changes once, when its compiled tier takes over.
    tier: str = "reference"
    #: True when the compiled code came from the compile cache (memory or disk), False
    #: when it was compiled; None when there is no cache (or, tiered, no compiled tier yet)
    cache_hit: Optional[bool] = None
    #: why this segment of a compiled backend runs on the reference backend, or None
    host_reason: Optional[str] = None
    #: True when the tier may still change: ``wait`` blocks for the final one and
    #: ``on_compiled`` callbacks run when it takes over
    tiered: ClassVar[bool] = False
    #: the file suffix of ``source`` (tools that write it out)
    source_suffix: ClassVar[str] = ".py"

    @abstractmethod
    def __call__(self, inputs: Sequence[np.ndarray], state: Optional[StateStore] = None) -> list[np.ndarray]:
        ...

    @property
    def fast_call(self) -> Callable:
        """The function a hot path calls for ``exe(inputs, state)``: a plain function
        doing what ``__call__`` does without the extra method frame where the
        executable has one (numba's generated wrapper), else ``__call__``."""
        return self.__call__

    @property
    def source(self) -> Optional[str]:
        """The generated code, for dumps and ``netjit compile``; None when there is none."""
        return None

    @property
    def wrapper_source(self) -> str:
        """The generated Python wrapper around ``source``, or ""."""
        return ""

    def on_compiled(self, callback: Callable[["Executable"], None]) -> None:
        """Call ``callback(faster_exe)`` when this executable has a faster one to hand over.

        A tiered executable answers from the reference backend until its
        compiled tier is ready; a holder on a hot path registers here to swap
        in the compiled executable and skip the tier dispatch. Other
        executables never change: nothing is registered.
        """

    def wait(self, timeout: Optional[float] = None) -> "Executable":
        """Block until the final tier runs (raising what failed compiling it); returns it.
        Only a tiered executable ever waits."""
        return self


class Backend(ABC):
    """Compiles graphs (segments) into executables."""

    #: the name ``get_backend`` knows it by
    name: ClassVar[str]
    #: True when ``compile_deferred`` returns before ``prepare`` has run (a tiered
    #: backend runs it on its compile thread), so the pipeline may defer its passes
    supports_deferral: ClassVar[bool] = False

    @abstractmethod
    def compile(self, graph: Graph, **options) -> Executable:
        ...

    def compile_deferred(self, graph: Graph, prepare: Callable[[Graph], Graph], **options) -> Executable:
        """``compile`` for a graph whose passes have not run yet: ``prepare(graph)`` runs
        them (in place) and returns it. By default it prepares, then compiles."""
        return self.compile(prepare(graph), **options)

    @abstractmethod
    def compiled_ops(self) -> frozenset:
        """The op classes this backend compiles (others run as host steps or fail)."""


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
