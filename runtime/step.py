"""Compiled steps: a Schedule built for sorted names, bound to a caller's order.

``CompiledEntry`` is what the executor cache keeps per signature (order
independent). ``CompiledStep`` adapts it to one caller's feed and fetch order
with everything precomputed: the feed checks, which caller value each input
of a single-segment schedule is, and where each fetch comes from, so a call does
no lookups and builds no dicts.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import TensorType
from netjit.errors import InvalidArgumentError

from .schedule import Schedule
from .fast_callable import acceptor
from .rendezvous import Rendezvous


def check_feed(blob: str, expected: TensorType, value: np.ndarray) -> None:
    """Raise InvalidArgumentError unless ``value`` may be fed where ``expected`` is declared."""
    if value.dtype != expected.dtype:
        raise InvalidArgumentError(f"Cannot feed value of dtype {value.dtype} for blob {blob!r}, "
                                   f"which has dtype {expected.dtype}")
    if expected.shape is not None and not expected.accepts(TensorType(expected.dtype, value.shape)):
        raise InvalidArgumentError(f"Cannot feed value of shape {value.shape} for blob {blob!r}, "
                                   f"which has shape {expected}")


@dataclass(eq=False)
class CompiledEntry:
    """What the executor cache keeps per signature (order independent)."""

    schedule: Schedule
    compiled: object              # pipeline.CompiledSignature: graphs and the compile trace
    feeds: tuple[str, ...]        # sorted
    fetches: tuple[str, ...]      # sorted, may repeat

    @property
    def graph(self) -> Graph:
        return self.compiled.graph

    @property
    def partitions(self) -> dict:
        return self.compiled.partitions


class CompiledStep:
    """Runs a CompiledEntry with feeds and fetches in the caller's order."""

    __slots__ = ("entry", "schedule", "feed_names", "feed_order", "checks", "fetch_slots",
                 "direct", "exe", "call", "args", "pick", "_accepts")

    def __init__(self, entry: CompiledEntry, feed_names: Sequence[str], fetch_names: Sequence[str]):
        self.entry = entry
        schedule = self.schedule = entry.schedule
        self.feed_names = tuple(feed_names)
        position = {name: i for i, name in enumerate(feed_names)}
        #: caller index of each sorted feed (= slot)
        self.feed_order = tuple(position[f] for f in schedule.feeds)
        caller_types = {f: t for f, t in zip(schedule.feeds, schedule.feed_types)}
        self.checks = tuple((f, caller_types[f], caller_types[f].dtype,
                             None if caller_types[f].shape is None else len(caller_types[f].shape),
                             tuple((a, d) for a, d in enumerate(caller_types[f].shape or ()) if d is not None))
                            for f in feed_names)
        sorted_pos: dict = {}
        for i, name in enumerate(entry.fetches):
            sorted_pos.setdefault(name, i)
        self.fetch_slots = tuple(schedule.fetch_slots[sorted_pos[name]] for name in fetch_names)
        self._accepts = acceptor(self.checks)
        self.direct = schedule.direct
        self.exe = self.call = self.args = self.pick = None
        if self.direct:
            self._bind_direct()

    def _bind_direct(self) -> None:
        seg = self.schedule.segments[0]
        self.exe = seg.executable
        self.call = self.exe.fast_call
        self.exe.on_compiled(self._use_compiled)
        args = tuple(self.feed_order[s] for s in seg.in_slots)
        self.args = None if args == tuple(range(len(self.feed_names))) else args
        out_index = {s: k for k, slots in enumerate(seg.out_slots) for s in slots}
        pick = tuple(out_index[s] if s in out_index else ~self.feed_order[s] for s in self.fetch_slots)
        self.pick = None if pick == tuple(range(len(seg.out_slots))) else pick

    def _use_compiled(self, exe) -> None:
        self.exe, self.call = exe, exe.fast_call

    def accepts(self, values: Sequence) -> bool:
        """True if every value is an ndarray of the compiled dtype, rank and static dims.

        Generated straight-line code per step (see ``fast_callable.acceptor``).
        """
        return self._accepts(values)

    def check(self, values: Sequence[np.ndarray]) -> None:
        """Raise the error a user should see for values ``accepts`` refused."""
        if len(values) != len(self.checks):
            raise InvalidArgumentError(f"expected {len(self.checks)} feed values {list(self.feed_names)}, "
                                       f"got {len(values)}")
        for v, (name, t, *_rest) in zip(values, self.checks):
            check_feed(name, t, v)

    def run_direct(self, values: Sequence[np.ndarray], state) -> list:
        """The single-segment path: call the executable on this thread."""
        args = values if self.args is None else [values[i] for i in self.args]
        outs = self.call(args, state)
        return outs if self.pick is None else self.pick_outputs(outs, values)

    def pick_outputs(self, outs: Sequence, values: Sequence) -> list:
        """The caller's fetches from a segment's outputs (and fed values fetched back)."""
        return [outs[i] if i >= 0 else values[~i] for i in self.pick]

    def run(self, values: Sequence[np.ndarray], state, executor, deadline: Optional[float] = None,
            stats: Optional[list] = None) -> list:
        """Run on the executor's pool and wait (bounded by ``deadline``, monotonic seconds)."""
        rdv = Rendezvous(self.schedule, deadline, stats)
        for slot, i in enumerate(self.feed_order):
            rdv.slots[slot] = values[i]
        executor.start(rdv, state, rdv.ready(), inline=True)
        try:
            rdv.wait(rdv.all_done)
        finally:
            executor.finish(rdv)
        return [rdv.slots[s] for s in self.fetch_slots]


def deadline_of(timeout_s: Optional[float]) -> Optional[float]:
    """A monotonic deadline ``timeout_s`` from now (None: no deadline)."""
    return None if timeout_s is None else time.monotonic() + timeout_s
