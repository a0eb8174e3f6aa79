"""The compile pipeline: lower, resolve fetches, optimise, place, partition, emit.

Everything a session needs to turn (program, feeds, fetches, targets) into an
executable goes through this module; it is the one place the stages are
composed. ``compile_signature`` runs them all for a direct session:

    build_graph -> optimize (PRE_PLACEMENT) -> place -> POST_PLACEMENT
    -> partition -> POST_PARTITIONING (per partition) -> split into segments
    -> backend.compile (per segment)

and records a timeline of every stage (``CompileTrace``). With a tiered
backend on one device the passes wait: the pruned graph is placed, split and
handed to the backend, whose reference tier answers the first calls while
the pass phases and code generation run on its compile thread
(``_compile_deferred``).
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

from netjit.errors import CompilationError, InvalidArgumentError, NotFoundError

from .ir import Graph
from .frontend.lowering import Lowered, lower_net
from .frontend.net import OpDef
from .ir.reachability import remove_unneeded
from .ops import TensorType
from .partition import partition
from .placement import Placer
from .segments import Segmentation, split


@dataclass(frozen=True)
class Signature:
    """What one executable is specialised for."""

    feeds: tuple[str, ...]
    fetches: tuple[str, ...]
    targets: tuple[str, ...] = ()


def known_blobs(ops: Sequence[OpDef]) -> set[str]:
    """Every blob name a program reads or writes."""
    return {b for d in ops for b in d.inputs + d.outputs}


def resolve(lowered: Lowered, ops: Sequence[OpDef], name: str, blob: str, what: str):
    """The value of ``blob``, or the error that says why it cannot be had."""
    if blob in lowered.blobs:
        return lowered.blobs[blob]
    if blob in lowered.missing:
        raise InvalidArgumentError(f"cannot {what} {blob!r} in net {name!r}: {lowered.missing[blob]}")
    if blob in known_blobs(ops):
        raise InvalidArgumentError(f"cannot {what} {blob!r} in net {name!r}: nothing produces it "
                                   "and it is not fed")
    raise NotFoundError(f"cannot {what} {blob!r}: no blob of that name in net {name!r}")


def build_graph(ops: Sequence[OpDef], name: str, feeds: Mapping[str, TensorType],
                fetches: Sequence[str], targets: Sequence[str] = (),
                inputs: Mapping[str, TensorType] = ()) -> tuple[Graph, Lowered]:
    """Lower ``ops`` and set the graph's outputs (fetches) and targets.

    Unknown fetches raise NotFoundError; fetches the feeds cannot compute raise
    InvalidArgumentError naming the missing input.
    """
    blobs = known_blobs(ops)
    for f in feeds:
        if f not in blobs:
            raise NotFoundError(f"cannot feed {f!r}: no blob of that name in net {name!r}")
    lowered = lower_net(ops, name, feeds, inputs)
    graph = lowered.graph
    graph.outputs = [resolve(lowered, ops, name, f, "fetch") for f in fetches]
    graph.targets = list(dict.fromkeys(resolve(lowered, ops, name, t, "run target")[0] for t in targets))
    return graph, lowered


def optimize(graph: Graph, config=None, feeds: Sequence[str] = (), fetches: Sequence[str] = (),
             targets: Sequence[str] = (), ctx=None) -> Graph:
    """Run the PRE_PLACEMENT passes on ``graph`` in place; returns it.

    The pass options come from ``config`` (a SessionConfig or None) and the
    environment (see ``netjit.passes.options``); pass ``ctx`` (from
    ``netjit.passes.make_context``) to share one context with later phases.
    """
    from netjit.passes import Phase, make_context, run_phase
    if ctx is None:
        feeds = feeds or [graph.name_of_input(n) for n in graph.inputs]
        fetches = fetches or [graph.names(n)[k] or f"%{n}" for n, k in graph.outputs]
        ctx = make_context(config, feeds, fetches, targets)
    run_phase(graph, Phase.PRE_PLACEMENT, ctx)
    return graph


#: SessionConfig fields every backend's ``compile`` is given (a backend ignores what it does not use).
BACKEND_OPTIONS = ("tiered", "cache_dir", "dump_dir")


def backend_options(config) -> dict:
    """The options ``config`` (a SessionConfig or None) sets for ``backend.compile``."""
    if config is None:
        return {}
    return {k: getattr(config, k) for k in BACKEND_OPTIONS if getattr(config, k, None) is not None}


def compile_graph(graph: Graph, backend, config=None) -> object:
    """Emit an executable for an optimised graph, with ``config``'s backend options."""
    return backend.compile(graph, **backend_options(config))


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


@dataclass
class CompiledSignature:
    """Everything compiling one signature produced, kept for metadata and dumps."""

    graph: Graph                      # optimised and placed, before partitioning (deferred: the segment's)
    partitions: dict[str, Graph]      # per device, with Send/Recv
    segmentation: Segmentation
    executables: list                 # one per segment of ``segmentation``
    trace: CompileTrace


def _pass_context(config, feeds, fetches, targets, by_feeds: bool):
    """One pass context for every phase of a compile.

    A partial run computes what the first feeds allow before the rest arrive,
    so fusion, which would merge values needing different feeds, is off there.
    """
    from netjit.passes import make_context
    if not by_feeds:
        return make_context(config, feeds, fetches, targets)
    disabled = set(getattr(config, "disabled_passes", ()) or ()) | {"fuse_elementwise"}
    return make_context(config, feeds, fetches, targets, disabled=disabled)


def compile_signature(ops: Sequence[OpDef], name: str, feeds: Mapping[str, TensorType],
                      fetches: Sequence[str], targets: Sequence[str], config, placer: Placer,
                      backend, by_feeds: bool = False) -> CompiledSignature:
    """Compile one (feeds, fetches, targets) signature into per-segment executables.

    ``placer`` carries the session's devices and variable pins across compiles;
    ``by_feeds`` splits segments by the feeds they need (for partial runs).
    """
    trace = CompileTrace()
    with trace.span("lower", "compile"):
        graph, _ = build_graph(ops, name, feeds, fetches, targets)
    if _defers_passes(backend, config, placer, by_feeds):
        return _compile_deferred(graph, name, list(feeds), fetches, targets, config, placer, backend, trace)
    from netjit.passes import Phase, run_phase
    ctx = _pass_context(config, list(feeds), fetches, targets, by_feeds)
    with trace.passes("PRE_PLACEMENT", ctx):
        optimize(graph, config, ctx=ctx)
    with trace.span("placement", "compile", devices=list(placer.devices)):
        placer.place(graph)
    with trace.passes("POST_PLACEMENT", ctx):
        run_phase(graph, Phase.POST_PLACEMENT, ctx)
    placer.place(graph)  # nodes a pass added
    parts = _partition(graph, trace)
    for dev, part in parts.graphs.items():
        with trace.passes(f"POST_PARTITIONING {dev}", ctx):
            run_phase(part, Phase.POST_PARTITIONING, ctx)
    segmentation = _split(parts, trace, by_feeds, name)
    _dump_partitions(ctx, parts.graphs, segmentation)
    executables = _compile_segments(segmentation, trace, backend, lambda seg: compile_graph(seg.graph, backend, config))
    trace.seal()
    return CompiledSignature(graph, parts.graphs, segmentation, executables, trace)


def _partition(graph: Graph, trace: CompileTrace):
    with trace.span("partition", "compile") as info:
        parts = partition(graph)
        info["partitions"] = len(parts.graphs)
    return parts


def _split(parts, trace: CompileTrace, by_feeds: bool, name: str) -> Segmentation:
    with trace.span("segments", "compile") as info:
        segmentation = split(parts, by_feeds=by_feeds, name=name)
        info["segments"] = len(segmentation.segments)
    return segmentation


def _compile_segments(segmentation: Segmentation, trace: CompileTrace, backend, compile_one) -> list:
    """``compile_one(segment)`` for each segment, each timed with its tier and cache hit."""
    executables = []
    for seg in segmentation.segments:
        with trace.span(f"compile {seg.name}", "backend", backend=backend.name) as info:
            exe = compile_one(seg)
            info["tier"] = exe.tier
            info["cache_hit"] = exe.cache_hit
        executables.append(exe)
    return executables


def _defers_passes(backend, config, placer: Placer, by_feeds: bool) -> bool:
    """Whether the passes may wait until after the first result (see ``_compile_deferred``).

    Only on one device: there a signature is at most one segment, so the
    passes see the whole graph either way. Never with a dump directory, whose
    reader wants the optimised graphs written by the time the run returns, nor
    while passes are verified (tests, ``NETJIT_DEBUG=1``): a pass or verifier
    error must fail the call that compiled, not a later one.
    """
    return (not by_feeds and len(placer.devices) == 1 and backend.supports_deferral
            and bool(getattr(config, "tiered", False)) and not getattr(config, "dump_dir", None)
            and not os.environ.get("NETJIT_DUMP_DIR") and not _verifies_passes(config))


def _verifies_passes(config) -> bool:
    """``PassOptions.verify`` as the passes will resolve it, without importing them."""
    from netjit.config import verify_passes_by_default
    verify = getattr(config, "verify_passes", None)
    return bool(verify) if verify is not None else verify_passes_by_default(os.environ)


def _compile_deferred(graph: Graph, name: str, feeds: list, fetches: Sequence[str], targets: Sequence[str],
                      config, placer: Placer, backend, trace: CompileTrace) -> CompiledSignature:
    """Prune, place, partition and split the graph; the backend runs the passes later.

    A tiered backend answers the first calls on its reference tier from the
    pruned graph, and runs the pass phases (``_optimize_segment``) on its
    compile thread, just before code generation: the first result does not
    wait for them (on a 200-op chain they cost twice the rest of the compile).
    Pruning decides what runs (an Assign nobody needs must not), so it
    comes first; the other passes, plugins' too, only rewrite how it is
    computed, and every op has a reference implementation to run unrewritten.
    The segmentation keeps the segment's inputs and outputs, which passes preserve
    (``_optimize_segment`` checks). A pass that fails there fails the calls
    after the first, as a failed numba compile does.
    """
    with trace.span("prune", "compile"):
        remove_unneeded(graph)
    with trace.span("placement", "compile", devices=list(placer.devices)):
        placer.place(graph)
    parts = _partition(graph, trace)
    segmentation = _split(parts, trace, False, name)
    signature = CompiledSignature(graph, parts.graphs, segmentation, [], trace)

    def compile_one(seg):
        prepare = functools.partial(_optimize_segment, signature, seg.device, config, feeds, fetches, targets)
        return backend.compile_deferred(seg.graph, prepare, **backend_options(config))
    signature.executables = _compile_segments(segmentation, trace, backend, compile_one)
    trace.seal()
    return signature


def _optimize_segment(signature: CompiledSignature, device: str, config, feeds, fetches, targets,
                      graph: Graph) -> Graph:
    """Run every pass phase on a deferred signature's one segment ``graph``, in place.

    Called by the backend, usually on its compile thread. The timings join the
    signature's compile trace, and its graph and partition become the
    optimised ones, for run metadata.
    """
    from netjit.passes import Phase, run_phase
    trace = signature.trace
    ctx = _pass_context(config, feeds, fetches, targets, False)
    # places what the passes add (every node there was is placed); this device is the only one
    placer = Placer([device], allow_soft_placement=bool(getattr(config, "allow_soft_placement", False)))
    n_inputs, n_outputs = len(graph.inputs), len(graph.outputs)
    with trace.passes("PRE_PLACEMENT", ctx):
        run_phase(graph, Phase.PRE_PLACEMENT, ctx)
    placer.place(graph)
    with trace.passes("POST_PLACEMENT", ctx):
        run_phase(graph, Phase.POST_PLACEMENT, ctx)
    placer.place(graph)
    with trace.passes(f"POST_PARTITIONING {device}", ctx):
        run_phase(graph, Phase.POST_PARTITIONING, ctx)
    if (len(graph.inputs), len(graph.outputs)) != (n_inputs, n_outputs):
        raise CompilationError(f"the passes changed segment {graph.name!r}'s signature: "
                               f"{n_inputs} inputs and {n_outputs} outputs became "
                               f"{len(graph.inputs)} and {len(graph.outputs)}")
    shown = graph.copy()
    shown.name = signature.partitions[device].name
    signature.graph = shown
    signature.partitions = {device: shown}
    return graph


def _dump_partitions(ctx, partitions: Mapping[str, Graph], segmentation: Segmentation) -> None:
    """With a dump directory, write the final partition and segment graphs beside the pass dumps."""
    folders = [getattr(i, "dir", None) for i in ctx.instruments if type(i).__name__ == "DumpInstrument"]
    folder = next((f for f in folders if f is not None), None)
    if folder is None:
        return
    (folder / "partitions.txt").write_text("\n\n".join(str(g) for g in partitions.values()) + "\n")
    lines = []
    for i, seg in enumerate(segmentation.segments):
        lines.append(f"# segment {i} on {seg.device}, level {seg.level}, after {list(seg.after)}")
        lines.append(f"#   inputs {list(seg.inputs)}\n#   outputs {list(seg.outputs)}")
        lines.append(str(seg.graph) + "\n")
    (folder / "segments.txt").write_text("\n".join(lines))
