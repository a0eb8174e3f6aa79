"""The runtime form of a compiled signature: segments over numbered slots.

Every value that crosses a segment boundary (a feed, a Send/Recv pair, an
intra-device hand-over, a fetch) gets one slot index, so running a plan walks
tuples of ints, never a graph.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from netjit.compiler.ops import TensorType
from netjit.compiler.pipeline import CompiledSignature


@dataclass(frozen=True, eq=False)
class SegmentRun:
    """One segment as the executor sees it."""

    index: int
    name: str
    device: str
    executable: object
    in_slots: tuple[int, ...]
    out_slots: tuple[tuple[int, ...], ...]
    after: tuple[int, ...]
    successors: tuple[int, ...]
    #: Indices (into the plan's sorted feeds) of the feeds this segment reads.
    feed_deps: tuple[int, ...]
    blocking: bool               # has host ops: may block, never run on the caller

    @property
    def tier(self) -> str:
        """The executable's tier, read at each run: a tiered executable moves
        from "reference" to "numba" (or "native") once its compiled tier is ready."""
        return self.executable.tier


@dataclass(eq=False)
class Schedule:
    """Sorted feeds in slots ``0..F-1``, then the segments' values."""

    feeds: tuple[str, ...]
    feed_types: tuple[TensorType, ...]
    fetches: tuple[str, ...]
    fetch_slots: tuple[int, ...]
    segments: tuple[SegmentRun, ...]
    n_slots: int
    #: Per slot: the segment producing it (-1 for feeds).
    producer: tuple[int, ...]

    @property
    def direct(self) -> bool:
        """One segment of compiled code: run it on the caller's thread."""
        return len(self.segments) == 1 and not self.segments[0].blocking

    @property
    def devices(self) -> tuple[str, ...]:
        return tuple(sorted({s.device for s in self.segments}))


def build_schedule(compiled: CompiledSignature, feeds: Sequence[str], feed_types: Sequence[TensorType],
               fetches: Sequence[str]) -> Schedule:
    """Number the slots of a compiled signature (``feeds`` sorted, as compiled)."""
    slots = {("feed", f): i for i, f in enumerate(feeds)}
    producer = [-1] * len(feeds)

    def slot(key, seg_index=-1):
        if key not in slots:
            slots[key] = len(slots)
            producer.append(seg_index)
        elif seg_index >= 0:
            producer[slots[key]] = seg_index
        return slots[key]

    segs = compiled.segmentation.segments
    outs = [tuple(tuple(slot(k, i) for k in keys) for keys in s.outputs) for i, s in enumerate(segs)]
    feed_pos = {f: i for i, f in enumerate(feeds)}
    runs = []
    for i, (s, exe) in enumerate(zip(segs, compiled.executables)):
        succ = tuple(j for j, t in enumerate(segs) if i in t.after)
        runs.append(SegmentRun(i, s.name, s.device, exe, tuple(slot(k) for k in s.inputs), outs[i],
                               s.after, succ, tuple(sorted(feed_pos[f] for f in s.feeds)), s.has_host_ops))
    fetch_slots = tuple(slot(k) for k in compiled.segmentation.fetches)
    return Schedule(tuple(feeds), tuple(feed_types), tuple(fetches), fetch_slots, tuple(runs),
                len(slots), tuple(producer))
