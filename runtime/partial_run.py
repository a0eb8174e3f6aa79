"""Partial runs: one step fed and fetched over several calls (TensorFlow's PRun).

``partial_run_setup`` compiles the signature with segments split by the
feeds they need, starts what needs no feed, and returns a handle. Each
``partial_run`` delivers its feeds, launches the segments they complete and
returns once its fetches are computed. When every feed has been fed and every
fetch fetched, the run finishes and the handle is forgotten. Unlike
TensorFlow, a handle can also be released early (``handle.close()``), expire
(``timeout_s`` in setup) and report what is still pending.
"""
from __future__ import annotations

import itertools
import threading
import time
from typing import Any, Optional

from netjit.compiler.frontend.lowering import feed_type, lower_net
from netjit.compiler.pipeline import known_blobs
from netjit.errors import CancelledError, DeadlineExceededError, InvalidArgumentError, NotFoundError

from .rendezvous import Rendezvous
from .signature import RunSignature
from .step import CompiledStep, check_feed

_SETUP_FIRST = "Must run 'setup' before performing partial runs!"


class PartialRunHandle:
    """Names one open partial run; ``str(handle)`` is ``"<signature>;<counter>"`` as in TensorFlow."""

    def __init__(self, registry: "PartialRuns", name: str):
        self._registry = registry
        self.name = name

    def close(self) -> None:
        """Release the run early: segments not started are cancelled; the handle becomes unknown."""
        self._registry.release(self.name, "partial run handle closed")

    def pending(self) -> dict[str, list[str]]:
        """The feeds not yet fed and fetches not yet fetched (empty lists once finished)."""
        run = self._registry.get(self.name, missing_ok=True)
        if run is None:
            return {"feeds": [], "fetches": []}
        return {"feeds": sorted(run.pending_feeds), "fetches": sorted(run.pending_fetches)}

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<PartialRunHandle {self.name!r} pending={self.pending()}>"


class PartialRun:
    """The state of one open partial run."""

    def __init__(self, step: CompiledStep, sig: RunSignature, rdv: Rendezvous,
                 expires: Optional[float]):
        self.step, self.sig, self.rdv, self.expires = step, sig, rdv, expires
        self.pending_feeds = set(sig.feed_names)
        self.pending_fetches = set(sig.fetch_names)
        self.lock = threading.Lock()
        schedule = step.schedule
        self.feed_slot = {f: i for i, f in enumerate(schedule.feeds)}
        self.fetch_slot = dict(zip(sig.fetch_names, step.fetch_slots))
        self.needs = _feeds_needed(schedule)

    def check_call(self, feeds: dict, fetch_names: list[str]) -> None:
        """TensorFlow's PRun checks, in its order."""
        for f in feeds:
            if f not in self.feed_slot:
                raise InvalidArgumentError(f"The feed {f} was not specified in partial_run_setup.")
            if f not in self.pending_feeds:
                raise InvalidArgumentError(f"The feed {f} has already been fed.")
        for f in fetch_names:
            if f not in self.fetch_slot:
                raise InvalidArgumentError(f"The fetch {f} was not specified in partial_run_setup.")
            if f not in self.pending_fetches:
                raise InvalidArgumentError(f"The fetch {f} has already been fetched.")
        fed = set(self.sig.feed_names) - self.pending_feeds | set(feeds)
        for f in fetch_names:
            missing = self.needs[self.fetch_slot[f]] - fed
            if missing:
                raise InvalidArgumentError(f"Fetch {f}:0 can't be computed from the feeds that have been "
                                           f"fed so far (it needs {sorted(missing)}).")

    @property
    def finished(self) -> bool:
        return not self.pending_feeds and not self.pending_fetches


def _feeds_needed(schedule) -> dict[int, frozenset]:
    """Per slot: the feeds (names) its value depends on."""
    seg_needs: list[frozenset] = []
    for seg in schedule.segments:
        own = frozenset(schedule.feeds[i] for i in seg.feed_deps)
        seg_needs.append(own.union(*(seg_needs[j] for j in seg.after)))
    needs = {}
    for slot, p in enumerate(schedule.producer):
        needs[slot] = frozenset([schedule.feeds[slot]]) if p < 0 else seg_needs[p]
    return needs


class PartialRuns:
    """The open partial runs of one session."""

    def __init__(self):
        self._runs: dict[str, PartialRun] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self.executor = None

    def open(self, run: PartialRun, executor, state) -> PartialRunHandle:
        name = (f"{','.join(run.sig.feed_names)}->{','.join(run.sig.fetch_names)}/"
                f"{','.join(run.sig.target_names)};{next(self._counter)}")
        self._expire_old()
        with self._lock:
            self._runs[name] = run
        executor.start(run.rdv, state, run.rdv.ready())
        return PartialRunHandle(self, name)

    def get(self, name: str, missing_ok: bool = False) -> Optional[PartialRun]:
        with self._lock:
            run = self._runs.get(str(name))
        if run is None and not missing_ok:
            raise InvalidArgumentError(_SETUP_FIRST)
        return run

    def release(self, name: str, why: str, error: Optional[BaseException] = None) -> None:
        with self._lock:
            run = self._runs.pop(str(name), None)
        if run is not None and not run.rdv.all_done():
            run.rdv.fail(error or CancelledError(f"Partial run cancelled: {why}"))
        if run is not None and self.executor is not None:
            self.executor.finish(run.rdv)

    def _expire_old(self) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [n for n, r in self._runs.items() if r.expires is not None and r.expires <= now]
        for n in expired:
            self.release(n, "its timeout_s passed")

    def close(self) -> None:
        with self._lock:
            names = list(self._runs)
        for n in names:
            self.release(n, "the session was closed")


def partial_run(registry: PartialRuns, handle, fetches: Any, feed_dict: Optional[dict],
                convert, executor, state) -> Any:
    """One call of a partial run; ``convert(name, value)`` makes a feed an array."""
    run = registry.get(handle)
    if run.expires is not None and time.monotonic() >= run.expires:
        registry.release(handle, "its timeout_s passed")
        raise DeadlineExceededError(f"partial run {handle} expired (timeout_s of its setup passed)")
    sig = RunSignature(fetches, (feed_dict or {}).keys(), ["(partial)"])
    feeds = dict(zip(sig.feed_names, (feed_dict or {}).values()))
    with run.lock:
        run.check_call(feeds, sig.fetch_names)
        arrays = {f: convert(f, v) for f, v in feeds.items()}
        for f, a in arrays.items():
            check_feed(f, run.step.schedule.feed_types[run.feed_slot[f]], a)
        try:
            for f, a in arrays.items():
                executor.launch(run.rdv, state, run.rdv.feed(run.feed_slot[f], a))
                run.pending_feeds.discard(f)
            slots = [run.fetch_slot[f] for f in sig.fetch_names]
            run.rdv.wait(run.rdv.produced(slots))
            run.pending_fetches.difference_update(sig.fetch_names)
            if run.finished:
                run.rdv.wait(run.rdv.all_done)
                registry.release(handle, "finished")
        except BaseException as exc:
            registry.release(handle, "it failed", exc)
            raise
    return sig.rebuild(state.unalias([run.rdv.slots[s] for s in slots]))


def feed_types_before_feeding(ops, name: str, placeholders: dict, feed_names) -> list:
    """The types partial-run feeds compile for: placeholders' declared types, else the blob's."""
    lowered, known = None, known_blobs(ops)
    types = []
    for f in feed_names:
        if f not in known:
            raise NotFoundError(f"cannot feed {f!r}: no blob of that name in net {name!r}")
        t = placeholders.get(f)
        if t is None:
            if lowered is None:
                lowered = lower_net(ops, name, {p: placeholders[p] for p in feed_names if p in placeholders})
            if f not in lowered.blobs:
                raise InvalidArgumentError(f"cannot feed {f!r} in a partial run: its type is unknown "
                                           "before it is fed (feed a placeholder instead)")
            t = feed_type(lowered.graph.type(lowered.blobs[f]))
        types.append(t)
    return types
