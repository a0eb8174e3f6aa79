"""Run metadata: per-segment step stats, partition graphs, a cost summary, and a timeline.

``RunOptions(trace_level=FULL_TRACE)`` makes a run fill the ``RunMetadata``
it is given: one ``SegmentStat`` per segment run, the partition graphs of the
signature, and, on the run that compiled the signature, the compile's stages
(passes, placement, partitioning, backend compiles) or a cache hit.
``to_chrome_trace(path)`` writes all of it as Chrome trace JSON (open it in
``chrome://tracing`` or https://ui.perfetto.dev).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class SegmentStat:
    """One segment's run: where, on which thread, when (perf_counter s), how long, what it made."""

    name: str
    device: str
    thread: str
    start: float
    duration: float
    output_bytes: int
    tier: str


def output_bytes(values: Sequence) -> int:
    return sum(v.nbytes for v in values if isinstance(v, np.ndarray))


@dataclass
class RunMetadata:
    """What a traced run reports (TensorFlow's RunMetadata)."""

    step_stats: list = field(default_factory=list)
    partition_graphs: list = field(default_factory=list)
    cost_summary: dict = field(default_factory=dict)
    #: The compile stages of the run that compiled its signature (TraceEvents).
    compile_events: list = field(default_factory=list)
    #: "compiled" or "cache hit".
    executor_cache: str = ""
    run_start: Optional[float] = None
    run_duration: float = 0.0

    def devices(self) -> list[str]:
        """Devices that ran at least one segment."""
        return sorted({s.device for s in self.step_stats})

    def fill(self, stats, partitions, start: float, duration: float, compiled) -> None:
        """Record one run (called by the session)."""
        self.step_stats = sorted(stats, key=lambda s: s.start)
        self.partition_graphs = list(partitions.values())
        self.run_start, self.run_duration = start, duration
        self.executor_cache = "compiled" if compiled is not None else "cache hit"
        self.compile_events = compiled.sealed_events() if compiled is not None else []
        busy = sum(s.duration for s in self.step_stats)
        self.cost_summary = {
            "segments": len(self.step_stats), "devices": len(self.partition_graphs),
            "wall_s": duration, "segment_s": busy,
            "overlap": busy / duration if duration > 0 else 0.0,
            "output_bytes": sum(s.output_bytes for s in self.step_stats),
            "nodes": sum(len(g) for g in self.partition_graphs),
            "compile_s": sum(e.duration for e in self.compile_events if e.category != "pass"),
        }

    def chrome_events(self) -> list[dict[str, Any]]:
        """The trace as a list of Chrome trace events (microseconds from the first event)."""
        starts = [s.start for s in self.step_stats] + [e.start for e in self.compile_events]
        if self.run_start is not None:
            starts.append(self.run_start)
        t0 = min(starts, default=0.0)
        pid = os.getpid()
        events: list[dict] = []
        for e in self.compile_events:
            events.append({"name": e.name, "cat": e.category, "ph": "X", "pid": pid, "tid": "compile",
                           "ts": (e.start - t0) * 1e6, "dur": e.duration * 1e6,
                           "args": {k: _jsonable(v) for k, v in e.args.items()}})
        for s in self.step_stats:
            events.append({"name": s.name, "cat": s.device, "ph": "X", "pid": pid,
                           "tid": f"{s.device} {s.thread}", "ts": (s.start - t0) * 1e6,
                           "dur": s.duration * 1e6,
                           "args": {"device": s.device, "thread": s.thread, "tier": s.tier,
                                    "output_bytes": s.output_bytes}})
        if self.run_start is not None:
            events.append({"name": f"run ({self.executor_cache})", "cat": "run", "ph": "X", "pid": pid,
                           "tid": "caller", "ts": (self.run_start - t0) * 1e6,
                           "dur": self.run_duration * 1e6, "args": dict(self.cost_summary)})
        return events

    def to_chrome_trace(self, path) -> None:
        """Write the timeline as Chrome/Perfetto trace JSON to ``path``."""
        with open(path, "w") as fh:
            json.dump({"traceEvents": self.chrome_events(), "displayTimeUnit": "ms"}, fh, indent=1)


def _jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return str(v)
