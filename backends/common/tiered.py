"""Tiered execution: run on the reference backend until a compiled tier is ready.

``TieredExecutable`` wraps any compiled tier (the numba backend's, which may be
a native segment): it answers at once, calls going to the reference executable
while a background thread generates and compiles the code; once it is
ready, calls switch to it, and holders registered with ``on_compiled`` call
the compiled executable directly from then on. ``tier`` is "reference" until
the switch and the compiled tier's ("numba", or "native" for segments the
native code generator took) after it, for run metadata. A failed background
compilation is not hidden: the next call raises its CompilationError.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable

from ..base import Executable

_POOL: list = []
_POOL_LOCK = threading.Lock()


class _Compiler:
    """One daemon thread compiling queued segments (numba compiles under a lock anyway).

    A daemon, unlike a ThreadPoolExecutor worker, never holds up interpreter
    exit waiting for compilations nobody will use."""

    def __init__(self):
        self.jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._work, name="netjit-compile", daemon=True).start()

    def submit(self, fn, *args) -> Future:
        fut: Future = Future()
        self.jobs.put((fut, fn, args))
        return fut

    def _work(self) -> None:
        while True:
            fut, fn, args = self.jobs.get()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's next call
                fut.set_exception(exc)


def compile_pool() -> _Compiler:
    """The process's compile thread."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(_Compiler())
        return _POOL[0]


def tiered(reference: Executable, compile_fn: Callable[[], Executable], name: str) -> "TieredExecutable":
    """``reference`` now, ``compile_fn()`` on the compile thread once the first call has its answer."""
    return TieredExecutable(reference, lambda: compile_pool().submit(compile_fn), name)


class TieredExecutable(Executable):
    """``start()`` submits the compilation; it runs after the first call's
    reference result is out, so compiling never delays the first answer."""

    tiered = True

    __slots__ = ("name", "input_names", "reference", "start", "future", "compiled", "tier", "calls",
                 "lock", "listeners")

    def __init__(self, reference, start, name: str):
        self.name = name
        self.input_names = reference.input_names
        self.reference = reference
        self.start = start
        self.lock = threading.Lock()
        self.future: Future = None
        self.compiled = None
        self.tier = "reference"
        #: calls run through this wrapper per tier, e.g. {"reference": 3, "numba": 10}
        #: (the compiled tier is "numba" or, for native segments, "native")
        self.calls = {"reference": 0}
        self.listeners: list = []

    def __call__(self, inputs, state=None):
        exe = self.compiled
        if exe is None:
            if self.future is None:
                out = self.reference(inputs, state)
                self.tier = "reference"
                self.calls["reference"] += 1
                self._start()
                return out
            if not self.future.done():
                self.tier = "reference"
                self.calls["reference"] += 1
                return self.reference(inputs, state)
            exe = self.compiled = self.future.result()   # raises CompilationError if it failed
            self._notify(exe)
        self.tier = tier = exe.tier
        self.calls[tier] = self.calls.get(tier, 0) + 1
        return exe(inputs, state)

    def on_compiled(self, callback) -> None:
        """Call ``callback(compiled_executable)`` once the compiled tier takes over.

        Hot paths that hold this executable (a direct step, a generated
        callable) swap in the compiled one, so their calls stop paying for
        this wrapper's tier dispatch.
        """
        with self.lock:
            if self.compiled is None:
                self.listeners.append(callback)
                return
        callback(self.compiled)

    def _notify(self, exe) -> None:
        self.tier = exe.tier
        with self.lock:
            listeners, self.listeners = self.listeners, []
        for callback in listeners:
            callback(exe)

    def _start(self) -> None:
        with self.lock:
            if self.future is None:
                self.future = self.start()

    @property
    def cache_hit(self):
        """The compiled tier's ``cache_hit`` (None while it is not compiled)."""
        return None if self.compiled is None else self.compiled.cache_hit

    def wait(self, timeout=None):
        """Block until the compiled tier is ready (starting it if no call has); returns it."""
        self._start()
        exe = self.future.result(timeout)
        if self.compiled is None:
            self.compiled = exe
            self._notify(exe)
        return exe

    def __repr__(self) -> str:
        return f"<TieredExecutable {self.name!r} tier={self.tier}>"
