"""The stage model of a compile, and the steps the pipeline composes.

A compile goes through five stages, each a snapshot a caller may observe
through ``Hooks.on_stage`` (the CLI's ``inspect --stage``, dumps):

    LOWERED      the graph as lowered, fetches and targets set
    OPTIMIZED    after the PRE_PLACEMENT passes
    PLACED       placed, after the POST_PLACEMENT passes
    PARTITIONED  per device, after the POST_PARTITIONING passes (dict device -> graph)
    SEGMENTS     the Segmentation, after the SEGMENT passes (backend rewrites)

``Hooks.instruments`` are pass instruments added to the compile's pass
context: they see every pass application of every phase. The hooks get the
live graphs: copy what you keep, later stages rewrite them in place.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from netjit.errors import CompilationError
from netjit.passes import DumpInstrument, Phase, make_context, run_phase

from .compile_trace import CompileTrace
from .ir import Graph
from .partition import Partitioned, partition
from .segments import Segmentation, split


class Stage(enum.Enum):
    """A point of the pipeline where the graph (or graphs) can be observed."""

    LOWERED = "lowered"
    OPTIMIZED = "optimized"
    PLACED = "placed"
    PARTITIONED = "partitioned"
    SEGMENTS = "segments"


class Hooks:
    """What a caller observes of a compile; override ``on_stage``, list instruments."""

    def __init__(self, instruments: Sequence = ()):
        self.instruments = list(instruments)

    def on_stage(self, stage: Stage, value) -> None:
        """Called once per stage reached (per segment in a deferred compile)."""


NO_HOOKS = Hooks()


@dataclass
class CompiledSignature:
    """Everything compiling one signature produced, kept for metadata and dumps."""

    graph: Graph                      # optimised and placed, before partitioning (deferred: the segment's)
    partitions: dict[str, Graph]      # per device, with Send/Recv
    segmentation: Segmentation
    executables: list                 # one per segment of ``segmentation``
    trace: CompileTrace
    #: Every pass application of the compile, all phases (deferred: filled on the compile thread).
    applications: list = field(default_factory=list)


@dataclass
class Request:
    """One compile's settings: who compiles, for which signature, observed how."""

    name: str
    config: Any
    placer: Any
    backend: Any
    feeds: Sequence[str] = ()
    fetches: Sequence[str] = ()
    targets: Sequence[str] = ()
    by_feeds: bool = False
    hooks: Hooks = NO_HOOKS
    until: Optional[Stage] = None

    def stops_at(self, stage: Stage) -> bool:
        return self.until is stage

    def pass_context(self):
        """One pass context for every phase of a compile.

        A partial run computes what the first feeds allow before the rest arrive,
        so fusion, which would merge values needing different feeds, is off there.
        """
        extra = {}
        if self.by_feeds:
            extra["disabled"] = set(getattr(self.config, "disabled_passes", ()) or ()) | {"fuse_elementwise"}
        return make_context(self.config, self.feeds, self.fetches, self.targets,
                            instruments=self.hooks.instruments, backend=self.backend.name if self.backend is not None else None,
                            **extra)


def run_segment_phase(graph: Graph, ctx, trace: CompileTrace) -> None:
    """The SEGMENT passes on one segment graph, which must keep its inputs and outputs."""
    n_inputs, n_outputs = len(graph.inputs), len(graph.outputs)
    with trace.passes(f"SEGMENT {graph.name}", ctx):
        run_phase(graph, Phase.SEGMENT, ctx)
    if (len(graph.inputs), len(graph.outputs)) != (n_inputs, n_outputs):
        raise CompilationError(f"the passes changed segment {graph.name!r}'s signature: "
                               f"{n_inputs} inputs and {n_outputs} outputs became "
                               f"{len(graph.inputs)} and {len(graph.outputs)}")


#: SessionConfig fields every backend's ``compile`` is given (a backend ignores what it does not use).
BACKEND_OPTIONS = ("tiered", "cache_dir", "dump_dir")


def backend_options(config) -> dict:
    """The options ``config`` (a SessionConfig or None) sets for ``backend.compile``."""
    if config is None:
        return {}
    return {k: getattr(config, k) for k in BACKEND_OPTIONS if getattr(config, k, None) is not None}


def compile_segments(segmentation: Segmentation, trace: CompileTrace, backend, compile_one) -> list:
    """``compile_one(segment)`` for each segment, each timed with its tier and cache hit."""
    executables = []
    for seg in segmentation.segments:
        with trace.span(f"compile {seg.name}", "backend", backend=backend.name) as info:
            exe = compile_one(seg)
            info["tier"] = exe.tier
            info["cache_hit"] = exe.cache_hit
        executables.append(exe)
    return executables


def dump_partitions(ctx, partitions: Mapping[str, Graph], segmentation: Segmentation) -> None:
    """With a dump directory, write the final partition and segment graphs beside the pass dumps."""
    folder = next((i.dir for i in ctx.instruments if isinstance(i, DumpInstrument) and i.dir is not None), None)
    if folder is None:
        return
    (folder / "partitions.txt").write_text("\n\n".join(str(g) for g in partitions.values()) + "\n")
    lines = []
    for i, seg in enumerate(segmentation.segments):
        lines.append(f"# segment {i} on {seg.device}, level {seg.level}, after {list(seg.after)}")
        lines.append(f"#   inputs {list(seg.inputs)}\n#   outputs {list(seg.outputs)}")
        lines.append(str(seg.graph) + "\n")
    (folder / "segments.txt").write_text("\n".join(lines))


def partition_graph(graph: Graph, trace: CompileTrace) -> Partitioned:
    """The placed graph cut per device (timed)."""
    with trace.span("partition", "compile") as info:
        parts = partition(graph)
        info["partitions"] = len(parts.graphs)
    return parts


def split_segments(parts: Partitioned, trace: CompileTrace, by_feeds: bool, name: str) -> Segmentation:
    """The partitions split into segments (timed)."""
    with trace.span("segments", "compile") as info:
        segmentation = split(parts, by_feeds=by_feeds, name=name)
        info["segments"] = len(segmentation.segments)
    return segmentation
