"""The per-run rendezvous: where segments leave values and learn they may start.

One ``Rendezvous`` lives for one run (or one partial run). It holds the slot
values, how many inputs each segment still waits for, which segments are done,
and the run's fate: the first error, or cancellation. Every wait on it is
bounded by the run's deadline, and cancelling wakes every waiter, so no thread
stays blocked on a run that will not finish.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from netjit.errors import CancelledError, DeadlineExceededError

from .schedule import Schedule


class Rendezvous:
    """Slots and scheduling state of one run of a Schedule."""

    __slots__ = ("schedule", "slots", "pending", "done", "remaining", "error", "cond",
                 "deadline", "stats", "fed")

    def __init__(self, schedule: Schedule, deadline: Optional[float] = None, stats: Optional[list] = None,
                 partial: bool = False):
        self.schedule = schedule
        self.slots: list = [None] * schedule.n_slots
        self.pending = [len(s.after) + (len(s.feed_deps) if partial else 0) for s in schedule.segments]
        self.done = [False] * len(schedule.segments)
        self.remaining = len(schedule.segments)
        self.error: Optional[BaseException] = None
        self.cond = threading.Condition(threading.Lock())
        self.deadline = deadline
        self.stats = stats
        self.fed = [not partial] * len(schedule.feeds)

    @property
    def failed(self) -> bool:
        return self.error is not None

    def ready(self) -> list[int]:
        """Segments that may start now (before any has run)."""
        return [i for i, p in enumerate(self.pending) if p == 0]

    def feed(self, index: int, value) -> list[int]:
        """Deliver feed ``index``; returns the segments it made ready."""
        with self.cond:
            self.slots[index] = value
            self.fed[index] = True
            return self._release(s.index for s in self.schedule.segments if index in s.feed_deps)

    def finish(self, seg_index: int, outputs) -> list[int]:
        """Store a segment's outputs; returns the segments that became ready."""
        seg = self.schedule.segments[seg_index]
        slots = self.slots
        for targets, value in zip(seg.out_slots, outputs):
            for s in targets:
                slots[s] = value
        with self.cond:
            self.done[seg_index] = True
            self.remaining -= 1
            ready = self._release(seg.successors)
            self.cond.notify_all()
            return [] if self.error is not None else ready

    def _release(self, segments) -> list[int]:
        ready = []
        for j in segments:
            self.pending[j] -= 1
            if self.pending[j] == 0:
                ready.append(j)
        return ready

    def fail(self, exc: BaseException) -> None:
        """Record the first error (or cancellation); wakes every waiter."""
        with self.cond:
            if self.error is None:
                self.error = exc
            self.cond.notify_all()

    def wait(self, until: Callable[[], bool]) -> None:
        """Block until ``until()`` holds; raise the run's error or DeadlineExceededError."""
        with self.cond:
            while not until():
                if self.error is not None:
                    break
                timeout = None if self.deadline is None else self.deadline - time.monotonic()
                if timeout is not None and timeout <= 0:
                    self.error = DeadlineExceededError(
                        f"Timed out waiting for notification: run of {len(self.schedule.segments)} "
                        f"segment(s) did not finish before its deadline")
                    self.cond.notify_all()
                    break
                self.cond.wait(timeout)
            if self.error is not None:
                raise self.error

    def all_done(self) -> bool:
        return self.remaining == 0

    def produced(self, slots) -> Callable[[], bool]:
        """A predicate: every slot in ``slots`` has been fed or computed."""
        producers = [self.schedule.producer[s] for s in slots]
        return lambda: all(self.done[p] if p >= 0 else True for p in producers)

    def cancel(self, message: str = "Run call was cancelled") -> None:
        self.fail(CancelledError(message))
