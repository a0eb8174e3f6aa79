"""``CompileTrace``: the timeline of one compile (stages, pass phases, pass applications)."""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator


@dataclass
class TraceEvent:
    """One timed stage of a compile (``start`` is ``time.perf_counter()`` seconds)."""

    name: str
    category: str
    start: float
    duration: float
    thread: str = ""
    args: dict = field(default_factory=dict)


class CompileTrace:
    """Collects the TraceEvents of one compile."""

    def __init__(self):
        self.events: list[TraceEvent] = []
        self.sealed: int = None

    def seal(self) -> None:
        """Mark where the compile the first run waited for ends; deferred passes add
        their events later, from the compile thread, while that run may be recording."""
        self.sealed = len(self.events)

    def sealed_events(self) -> list[TraceEvent]:
        """The events up to ``seal`` (all of them if it was never sealed)."""
        return list(self.events[:self.sealed] if self.sealed is not None else self.events)

    @contextlib.contextmanager
    def span(self, name: str, category: str, **args) -> Iterator[dict]:
        """Time the body; the yielded dict becomes the event's args (fill it in)."""
        t0 = time.perf_counter()
        try:
            yield args
        finally:
            self.events.append(TraceEvent(name, category, t0, time.perf_counter() - t0,
                                          threading.current_thread().name, args))

    @contextlib.contextmanager
    def passes(self, phase: str, ctx) -> Iterator[None]:
        """Time a pass phase, and each pass application in it (laid end to end from its start)."""
        first = len(ctx.history)
        with self.span(phase, "passes"):
            yield
        cursor = self.events[-1].start
        for app in ctx.history[first:]:
            if not app.skipped:
                self.events.append(TraceEvent(f"pass {app.name}", "pass", cursor, app.seconds,
                                              self.events[-1].thread,
                                              {"changed": app.changed, "nodes_before": app.nodes_before,
                                               "nodes_after": app.nodes_after}))
                cursor += app.seconds
