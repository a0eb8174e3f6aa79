"""The direct session (TensorFlow style): feeds in, fetches out, executables cached.

A Session owns a program (the ops of the nets it was given), a variable
store and an executor cache; it delegates compiling to the pipeline and
running to compiled steps.
"""
from __future__ import annotations

import threading
from typing import Any, Optional, Sequence

from netjit.compiler.net import Net, OpDef
from netjit.config import SessionConfig
from netjit.errors import FailedPreconditionError, InvalidArgumentError

from .executor_cache import ExecutorCache
from .fetch import flatten_fetches
from .program import as_feed_value, compile_entry, declared_placeholders, signature_types
from .step import CompiledStep
from .variables import VariableStore


def _names(blobs) -> list[str]:
    if blobs is None:
        return []
    if isinstance(blobs, str):
        return [str(blobs)]
    return [str(b) for b in blobs]


class Session:
    """Runs fetches of a net with feeds, compiling each signature once."""

    def __init__(self, net: Optional[Net] = None, config: Optional[SessionConfig] = None):
        self.config = config or SessionConfig()
        self.name = "session"
        self._ops: list[OpDef] = []
        self._placeholders: dict = {}
        self._variables = VariableStore()
        self._cache = ExecutorCache()
        self._closed = False
        self._lock = threading.Lock()
        if net is not None:
            self.extend(net)

    # -- lifecycle --------------------------------------------------------
    def close(self) -> None:
        """Close the session; every later call raises FailedPreconditionError."""
        self._closed = True
        self._cache.clear()

    def __enter__(self) -> "Session":
        self._check_open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise FailedPreconditionError("Attempted to use a closed Session.")

    # -- graph ------------------------------------------------------------
    def extend(self, net: Net) -> None:
        """Add the ops of ``net``; a blob already written by the session's program may not be rewritten."""
        self._check_open()
        if not isinstance(net, Net):
            raise InvalidArgumentError(f"extend expects a Net, got {type(net).__name__}")
        with self._lock:
            if self._ops:
                written = {b for d in self._ops for b in d.outputs}
                clash = sorted({b for d in net.ops for b in d.outputs} & written)
                if clash:
                    raise InvalidArgumentError(f"cannot extend session with net {net.name!r}: it writes "
                                               f"blobs the session's graph already has: {clash}")
            else:
                self.name = net.name
            self._ops = self._ops + list(net.ops)
            self._placeholders = declared_placeholders(self._ops)

    def reset(self, containers: Optional[Sequence[str]] = None) -> None:
        """Clear variables (all, or those in ``containers``); they must be re-assigned before use."""
        self._check_open()
        self._variables.reset(containers)

    def executor_cache_size(self) -> int:
        """How many signatures have been compiled."""
        return len(self._cache)

    @property
    def compile_count(self) -> int:
        return self._cache.compilations

    # -- running ----------------------------------------------------------
    def run(self, fetches: Any, feed_dict: Optional[dict] = None, targets=None,
            options=None, run_metadata=None) -> Any:
        """Compute ``fetches`` (a blob or nested list/tuple/dict of blobs) given ``feed_dict``."""
        self._check_open()
        if not self._ops:
            raise InvalidArgumentError("Session was not created with a graph before run()!")
        fetch_names, rebuild = flatten_fetches(fetches)
        feed_names, values = self._feeds(feed_dict)
        target_names = _names(targets)
        if not fetch_names and not target_names:
            raise InvalidArgumentError("Must specify at least one target to fetch or execute.")
        step = self._step(feed_names, values, fetch_names, target_names)
        return rebuild(step(values, self._variables))

    def make_callable(self, fetches: Any, feeds: Sequence = ()):
        """A callable ``f(*feed_values)`` running this signature without a cache lookup."""
        self._check_open()
        fetch_names, rebuild = flatten_fetches(fetches)
        feed_names = _names(feeds)
        bound: dict = {}

        def call(*values):
            if self._closed:
                self._check_open()
            arrays = [as_feed_value(n, v, self._placeholders) for n, v in zip(feed_names, values)]
            if len(arrays) != len(feed_names):
                raise InvalidArgumentError(f"expected {len(feed_names)} feed values {feed_names}, got {len(values)}")
            key = tuple((a.dtype, a.ndim) for a in arrays)
            step = bound.get(key)
            if step is None:
                step = bound[key] = self._step(feed_names, arrays, fetch_names, [])
            return rebuild(step(arrays, self._variables))
        return call

    def _feeds(self, feed_dict):
        if not feed_dict:
            return [], []
        names, values = [], []
        for k, v in feed_dict.items():
            name = str(k)
            if name in names:
                raise InvalidArgumentError(f"blob {name!r} fed more than once")
            names.append(name)
            values.append(as_feed_value(name, v, self._placeholders))
        return names, values

    def _step(self, feed_names, values, fetch_names, target_names) -> CompiledStep:
        types_key = tuple((v.dtype, v.ndim) for v in values)
        fast = (tuple(feed_names), tuple(fetch_names), tuple(target_names), types_key)

        def slow():
            order = sorted(range(len(feed_names)), key=lambda i: feed_names[i])
            return (tuple(feed_names[i] for i in order), tuple(sorted(fetch_names)),
                    tuple(sorted(target_names)), tuple(types_key[i] for i in order))

        def build():
            feed_types = signature_types(feed_names, values)
            return compile_entry(self._ops, self.name, feed_types, sorted(fetch_names),
                                 sorted(set(target_names)), self.config)

        return self._cache.get(fast, slow, build, lambda e: CompiledStep(e, feed_names, fetch_names))
