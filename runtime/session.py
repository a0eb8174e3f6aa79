"""The direct session (TensorFlow style): feeds in, fetches out, executables cached.

A Session owns a program (the ops of the nets it was given), the devices and
variable pins, a variable store, an executor cache, an executor (the inter-op
pool) and the open partial runs; it delegates compiling to the pipeline,
binding to compiled steps and running to the executor.

A cached run of a single-segment signature takes the direct path: the feed
checks are precomputed, the executable runs on the caller's thread, and no
thread is woken. Everything else (several segments, host ops, a deadline,
tracing) goes through the executor's pool.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Mapping, Optional, Sequence

from netjit.compiler.frontend.lowering import feed_type
from netjit.compiler.frontend.net import static_types
from netjit.compiler.pipeline import known_blobs
from netjit.compiler.placement import Placer, local_devices
from netjit.config import RunOptions, SessionConfig
from netjit.errors import CancelledError, FailedPreconditionError, InvalidArgumentError, NotFoundError

from .executor import Executor
from .executor_cache import ExecutorCache
from .fast_callable import direct_callable
from .partial_run import (PartialRun, PartialRunHandle, PartialRuns, feed_types_before_feeding,
                          partial_run)
from .program import as_feed_value, compile_entry, declared_placeholders, signature_types
from .rendezvous import Rendezvous
from .signature import RunSignature, blob_names, freeze, program_ops
from .step import CompiledStep, check_feed, deadline_of
from .stats import RunMetadata
from .variables import VariableStore

_MAX_SIGNATURES = 4096


class Session:
    """Runs fetches of a net with feeds, compiling each signature once.

    Parameters
    ----------
    net_or_graph : Net or Graph, optional
        The program; more can be added with ``extend``.
    config : SessionConfig, optional
        Devices (``device_count={"cpu": N}``), backend, timeouts, passes.
    """

    def __init__(self, net_or_graph=None, config: Optional[SessionConfig] = None):
        self.config = config or SessionConfig()
        self._devices = local_devices(self.config.device_count)
        self._placer = Placer([d.name for d in self._devices],
                              allow_soft_placement=self.config.allow_soft_placement)
        self.name = "session"
        self._ops: list = []
        self._placeholders: dict = {}
        self._static: Optional[dict] = None     # blob -> static type, once a non-placeholder is fed
        self._variables = VariableStore()
        self._cache = ExecutorCache()
        self._executor = Executor(self.config.inter_op_threads, len(self._devices))
        self._partial = PartialRuns()
        self._partial.executor = self._executor
        self._signatures: dict = {}
        self._timeout = self.config.operation_timeout_s
        self._closed = False
        self._lock = threading.Lock()
        if net_or_graph is not None:
            self.extend(net_or_graph)

    # -- lifecycle --------------------------------------------------------
    def close(self) -> None:
        """Close the session: in-flight runs raise CancelledError, later calls FailedPreconditionError."""
        if self._closed:
            return
        self._closed = True
        self._partial.close()
        self._executor.close()
        self._cache.clear()
        self._signatures.clear()

    def __enter__(self) -> "Session":
        self._check_open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise FailedPreconditionError("Attempted to use a closed Session.")

    # -- graph ------------------------------------------------------------
    def extend(self, net_or_graph) -> None:
        """Add the ops of a Net (or IR Graph); a blob the session's program writes may not be rewritten.

        Nothing compiled is invalidated: new ops only write new blobs and come
        after the existing ones, so no cached signature's result can change.
        The session's own net, grown since, adds just its new ops (TensorFlow's
        client extends a session by what its graph gained).
        """
        self._check_open()
        name, ops = program_ops(net_or_graph)
        with self._lock:
            n = len(self._ops)
            if n and len(ops) >= n and all(a is b for a, b in zip(ops, self._ops)):
                ops = ops[n:]                   # the same net object, grown
            if self._ops:
                written = {b for d in self._ops for b in d.outputs}
                clash = sorted({b for d in ops for b in d.outputs} & written)
                if clash:
                    raise InvalidArgumentError(f"cannot extend session with net {name!r}: it writes "
                                               f"blobs the session's graph already has: {clash}")
            else:
                self.name = name
            self._ops = self._ops + ops
            self._placeholders = declared_placeholders(self._ops)
            self._static = None

    def reset(self, containers: Optional[Sequence[str]] = None) -> None:
        """Clear variables; they must be re-assigned before use.

        ``None`` clears every container (``tf.Session.reset``'s default), a list
        clears the named ones, and an empty list the default container ``""``
        (``DirectSession::Reset``); a string names one container.
        """
        self._check_open()
        if isinstance(containers, str):
            containers = [containers]
        elif containers is not None:
            containers = list(containers) or [""]
        self._variables.reset(containers)

    def list_devices(self) -> list:
        """The local devices (``Device(kind, index)``, ``.name`` like ``"cpu:0"``)."""
        self._check_open()
        return list(self._devices)

    def executor_cache_size(self) -> int:
        """How many signatures have been compiled."""
        return len(self._cache)

    def wait_compiled(self, timeout_s: Optional[float] = None) -> int:
        """Block until every segment compiled so far runs its final tier; returns how many
        tiered segments there are (untiered executables are final already).

        With tiering, a signature's first runs answer from the reference backend
        while passes and numba run in the background; this waits for them and
        raises what failed there (a CompilationError or a pass's error). Past
        ``timeout_s`` in all it raises ``concurrent.futures.TimeoutError``.
        """
        self._check_open()
        deadline = deadline_of(timeout_s)
        tiered = [seg.executable for entry in self._cache.entries() for seg in entry.schedule.segments
                  if seg.executable.tiered]
        for exe in tiered:
            exe.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return len(tiered)

    @property
    def compile_count(self) -> int:
        return self._cache.compilations

    # -- running ----------------------------------------------------------
    def run(self, fetches: Any, feed_dict: Optional[dict] = None, targets=None,
            options: Optional[RunOptions] = None, run_metadata=None) -> Any:
        """Compute ``fetches`` (a blob or nested list/tuple/dict of blobs) given ``feed_dict``.

        ``targets`` run without being returned; ``options`` carry a timeout and a
        trace level; ``run_metadata`` (an ``nj.RunMetadata``) is filled in.
        """
        if self._closed:
            self._check_open()
        try:
            sig = self._signatures[(fetches, tuple(feed_dict) if feed_dict else (), targets)]
        except (KeyError, TypeError):  # new, or unhashable (a list): parse it
            sig = self._signature(fetches, feed_dict, targets)
        values = list(feed_dict.values()) if feed_dict else []
        step, built = sig.step, None
        if step is None or not step._accepts(values):
            values, step, built = self._bind(sig, values)
        if options is None and run_metadata is None and step.direct and self._timeout is None:
            outs = step.run_direct(values, self._variables)
            if self._closed:
                raise CancelledError("Run call was cancelled")
            return sig.rebuild(self._variables.unalias(outs))
        return sig.rebuild(self._run_pooled(step, values, options, run_metadata, built))

    def make_callable(self, fetches: Any, feeds: Sequence = ()):
        """A callable ``f(*feed_values)`` running this signature without a signature lookup.

        Two callables of one signature share one compiled executable.
        """
        return self.callable_for(fetches, feeds)

    def callable_for(self, fetches: Any, feeds: Sequence = (), by_name=None):
        """``make_callable``; with ``by_name(values, named)`` the callable also takes keywords
        (``nj.Program`` uses it to accept feeds by name)."""
        self._check_open()
        sig = RunSignature(fetches, blob_names(feeds))
        if self._ops:        # unknown names fail here, as TensorFlow's make_callable does, not at the call
            known = known_blobs(self._ops)
            for what, names in (("feed", sig.feed_names), ("fetch", sig.fetch_names)):
                for name in names:
                    if name not in known:
                        raise NotFoundError(f"cannot {what} {name!r}: no blob of that name in net {self.name!r}")
        rebuild, state, session = sig.rebuild, self._variables, self
        single = isinstance(fetches, str)

        def general(values):
            return rebuild(session._call_slow(sig, values))

        def call(*values, **named):
            if named:
                return by_name(values, named)
            return general(values)
        step = self._bind_declared(sig)
        if step is not None and step.direct and self._timeout is None:
            call = direct_callable(step, self, state, general, rebuild, single, by_name)
        call.signature = sig
        return call

    def _bind_declared(self, sig: RunSignature) -> Optional[CompiledStep]:
        """Compile a callable's step up front when every feed is a placeholder of known rank."""
        types = [self._placeholders.get(f) for f in sig.feed_names]
        if not self._ops or any(t is None or t.shape is None for t in types):
            return None
        sig.step, _ = self._step(sig.feed_names, [feed_type(t) for t in types], sig.fetch_names,
                                 sig.target_names)
        return sig.step

    def _call_slow(self, sig: RunSignature, values) -> list:
        """A callable's path when the fast checks fail: closed, new types, or pooled."""
        self._check_open()
        step = sig.step
        if step is None or not step.accepts(values):
            values, step, _ = self._bind(sig, list(values))
        if step.direct and self._timeout is None:
            return self._variables.unalias(step.run_direct(values, self._variables))
        return self._run_pooled(step, values, None, None, None)

    def _signature(self, fetches, feed_dict, targets) -> RunSignature:
        """The parsed signature, cached under the raw key when hashable, else a frozen one."""
        if feed_dict is not None and not isinstance(feed_dict, Mapping):
            raise InvalidArgumentError(f"feed_dict must be a dict of blob -> value, got {type(feed_dict).__name__}")
        feeds = tuple(feed_dict) if feed_dict else ()
        try:
            key = (fetches, feeds, targets)
            hash(key)
        except TypeError:
            key = (freeze(fetches), feeds, freeze(targets))
            if key[0] is None or (targets is not None and key[2] is None):
                return RunSignature(fetches, feed_dict or (), targets)   # nested: not cached
        sig = self._signatures.get(key)
        if sig is None:
            sig = RunSignature(fetches, feed_dict or (), targets)
            if len(self._signatures) > _MAX_SIGNATURES:
                self._signatures.clear()
            self._signatures[key] = sig
        return sig

    def _bind(self, sig: RunSignature, values: list):
        """Convert feed values, find (or compile) the step for their types, check them."""
        if not self._ops:
            raise InvalidArgumentError("Session was not created with a graph before run()!")
        if len(values) != len(sig.feed_names):
            raise InvalidArgumentError(f"expected {len(sig.feed_names)} feed values {sig.feed_names}, "
                                       f"got {len(values)}")
        static = self._static_feed_types(sig.feed_names)
        declared = {**static, **self._placeholders} if static else self._placeholders
        arrays = [as_feed_value(n, v, declared) for n, v in zip(sig.feed_names, values)]
        for n, a in zip(sig.feed_names, arrays):
            if n in static:
                check_feed(n, static[n], a)
        types = signature_types(sig.feed_names, arrays)
        step, built = self._step(sig.feed_names, [types[n] for n in sig.feed_names], sig.fetch_names,
                                 sig.target_names)
        step.check(arrays)
        sig.step = step
        return arrays, step, built

    def _static_feed_types(self, feed_names) -> dict:
        """The static types of the fed blobs that are not placeholders, where known:
        TensorFlow checks every fed tensor. The graph's static types are computed the
        first time such a blob is fed."""
        if all(f in self._placeholders for f in feed_names):
            return {}
        if self._static is None:
            self._static = static_types(self._ops)
        return {f: self._static[f] for f in feed_names if f not in self._placeholders and f in self._static}

    def _run_pooled(self, step: CompiledStep, values, options, run_metadata, built) -> list:
        if options is not None and not isinstance(options, RunOptions):
            raise InvalidArgumentError(f"options must be an nj.RunOptions, got {type(options).__name__}")
        if run_metadata is not None and not isinstance(run_metadata, RunMetadata):
            raise InvalidArgumentError(f"run_metadata must be an nj.RunMetadata, got {type(run_metadata).__name__}")
        timeout = self._timeout
        if options is not None and options.timeout_s is not None:
            timeout = options.timeout_s
        trace = run_metadata is not None and options is not None and options.trace_level > RunOptions.NO_TRACE
        stats = [] if trace else None
        t0 = time.perf_counter()
        outs = step.run(values, self._variables, self._executor, deadline_of(timeout), stats)
        if run_metadata is not None:
            run_metadata.fill(stats or [], step.entry.partitions, t0, time.perf_counter() - t0,
                              built.compiled.trace if built is not None else None)
        return self._variables.unalias(outs)

    def _step(self, feed_names, feed_types, fetch_names, target_names, partial: bool = False):
        """The step for these feed types (dtype and rank; rank None when a feed's rank is
        unknown until it is fed, as in a partial run of a placeholder declared without shape)."""
        types_key = tuple((t.dtype, None if t.shape is None else len(t.shape)) for t in feed_types)
        fast = (tuple(feed_names), tuple(fetch_names), tuple(target_names), types_key, partial)

        def slow():
            order = sorted(range(len(feed_names)), key=lambda i: feed_names[i])
            return (tuple(feed_names[i] for i in order), tuple(sorted(fetch_names)),
                    tuple(sorted(target_names)), tuple(types_key[i] for i in order), partial)

        def build():
            return compile_entry(self._ops, self.name, dict(zip(feed_names, feed_types)),
                                 sorted(fetch_names), sorted(set(target_names)), self.config,
                                 self._placer, partial, self._static_feed_types(feed_names))

        return self._cache.get(fast, slow, build, lambda e: CompiledStep(e, feed_names, fetch_names))

    # -- partial runs -----------------------------------------------------
    def partial_run_setup(self, fetches: Any, feeds=None, targets=None,
                          timeout_s: Optional[float] = None) -> PartialRunHandle:
        """Start a partial run that will be fed ``feeds`` and fetch ``fetches`` over several calls.

        ``timeout_s`` releases the run if it has not finished by then.
        """
        self._check_open()
        if not self._ops:
            raise InvalidArgumentError("Session was not created with a graph before run()!")
        sig = RunSignature(fetches, blob_names(feeds), targets)
        types = feed_types_before_feeding(self._ops, self.name, self._placeholders, sig.feed_names)
        step, _ = self._step(sig.feed_names, [feed_type(t) for t in types], sig.fetch_names,
                             sig.target_names, partial=True)
        timeout = timeout_s if timeout_s is not None else self._timeout
        expires = deadline_of(timeout)
        rdv = Rendezvous(step.schedule, expires, partial=True)
        return self._partial.open(PartialRun(step, sig, rdv, expires), self._executor, self._variables)

    def partial_run(self, handle, fetches: Any, feed_dict: Optional[dict] = None) -> Any:
        """Feed some of the setup's feeds and fetch some of its fetches."""
        self._check_open()
        return partial_run(self._partial, handle, fetches, feed_dict,
                           lambda n, v: as_feed_value(n, v, self._placeholders),
                           self._executor, self._variables)
