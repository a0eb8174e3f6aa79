"""The compile pipeline: the one place the stages are composed.

Every caller (Session and ``nj.compile``, Workspace nets and so steps and
LocalSession tasks, the CLI, bisect) turns (program, feeds, fetches, targets)
into executables through ``compile_signature`` (or ``compile_lowered`` for a
graph already lowered):

    lower -> PRE_PLACEMENT -> place -> POST_PLACEMENT -> partition
    -> POST_PARTITIONING (per partition) -> split into segments
    -> SEGMENT (per segment: backend rewrites) -> backend.compile (per segment)

Callers observe the stages (``stages.Stage``) through ``Hooks`` instead of
re-running them, and may stop after one (``until``). A timeline of every
stage is kept (``CompileTrace``). With a tiered backend on one device the
passes wait for the compile thread (``deferral``).
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from netjit.errors import InvalidArgumentError, NotFoundError
from netjit.passes import Phase, make_context, run_phase

from . import deferral
from .compile_trace import CompileTrace, TraceEvent  # noqa: F401  (re-exported)
from .frontend.lowering import Lowered, lower_net
from .frontend.net import OpDef
from .ir import Graph
from .ops import TensorType
from .placement import Placer
from .segments import Segmentation
from .stages import (NO_HOOKS, BACKEND_OPTIONS, CompiledSignature, Hooks, Request, Stage,  # noqa: F401
                     backend_options, compile_segments, dump_partitions, partition_graph, run_segment_phase,
                     split_segments)


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


def target_effects(graph: Graph) -> Graph:
    """Make every stateful and host node a target: a Workspace net runs all its effects."""
    graph.targets = list(dict.fromkeys(list(graph.targets) + [
        n for n in graph.nodes() if graph.op(n).stateful or graph.op(n).host]))
    return graph


def optimize(graph: Graph, config=None, ctx=None) -> Graph:
    """Run the PRE_PLACEMENT passes on ``graph`` in place; returns it (for tests and tools
    that study one phase; compiles go through ``compile_signature``)."""
    if ctx is None:
        feeds = [graph.name_of_input(n) for n in graph.inputs]
        fetches = [graph.names(n)[k] or f"%{n}" for n, k in graph.outputs]
        ctx = make_context(config, feeds, fetches)
    run_phase(graph, Phase.PRE_PLACEMENT, ctx)
    return graph


def compile_signature(ops: Sequence[OpDef], name: str, feeds: Mapping[str, TensorType],
                      fetches: Sequence[str], targets: Sequence[str], config, placer: Placer,
                      backend, by_feeds: bool = False, *, inputs: Mapping[str, TensorType] = (),
                      effects_as_targets: bool = False, hooks: Hooks = NO_HOOKS,
                      until: Optional[Stage] = None) -> CompiledSignature:
    """Compile one (feeds, fetches, targets) signature into per-segment executables.

    ``placer`` carries the session's devices and variable pins across compiles;
    ``by_feeds`` splits segments by the feeds they need (for partial runs).
    ``inputs`` are typed blobs read from elsewhere than the feeds (a workspace);
    ``effects_as_targets`` runs every stateful and host op (a Workspace net).
    ``hooks`` observe each stage; ``until`` stops after that stage.
    """
    trace = CompileTrace()
    with trace.span("lower", "compile"):
        graph, _ = build_graph(ops, name, feeds, fetches, targets, dict(inputs))
    if effects_as_targets:
        target_effects(graph)
    request = Request(name, config, placer, backend, [*feeds, *dict(inputs)], list(fetches), list(targets),
                      by_feeds, hooks, until)
    return compile_lowered(graph, request, trace)


def compile_lowered(graph: Graph, request: Request, trace: Optional[CompileTrace] = None) -> CompiledSignature:
    """The pipeline from a lowered graph (outputs and targets set), consumed in place."""
    trace = trace or CompileTrace()
    request.hooks.on_stage(Stage.LOWERED, graph)
    if request.stops_at(Stage.LOWERED):
        return CompiledSignature(graph, {}, Segmentation(), [], trace)
    if deferral.defers_passes(request):
        return deferral.compile_deferred(graph, request, trace)
    ctx = request.pass_context()
    done = _optimize_and_place(graph, request, ctx, trace)
    if done is not None:
        return done
    parts = partition_graph(graph, trace)
    for dev, part in parts.graphs.items():
        with trace.passes(f"POST_PARTITIONING {dev}", ctx):
            run_phase(part, Phase.POST_PARTITIONING, ctx)
    request.hooks.on_stage(Stage.PARTITIONED, parts.graphs)
    signature = CompiledSignature(graph, parts.graphs, Segmentation(), [], trace, ctx.history)
    if request.stops_at(Stage.PARTITIONED):
        return signature
    signature.segmentation = split_segments(parts, trace, request.by_feeds, request.name)
    for seg in signature.segmentation.segments:
        run_segment_phase(seg.graph, ctx, trace)
    request.hooks.on_stage(Stage.SEGMENTS, signature.segmentation)
    dump_partitions(ctx, parts.graphs, signature.segmentation)
    if not request.stops_at(Stage.SEGMENTS):
        signature.executables = compile_segments(signature.segmentation, trace, request.backend, lambda seg: (
            request.backend.compile(seg.graph, **backend_options(request.config))))
    trace.seal()
    return signature


def _optimize_and_place(graph: Graph, request: Request, ctx, trace: CompileTrace):
    """PRE_PLACEMENT, placement, POST_PLACEMENT; a CompiledSignature when ``until`` stops here."""
    with trace.passes("PRE_PLACEMENT", ctx):
        run_phase(graph, Phase.PRE_PLACEMENT, ctx)
    request.hooks.on_stage(Stage.OPTIMIZED, graph)
    if request.stops_at(Stage.OPTIMIZED):
        return CompiledSignature(graph, {}, Segmentation(), [], trace, ctx.history)
    with trace.span("placement", "compile", devices=list(request.placer.devices)):
        request.placer.place(graph)
    with trace.passes("POST_PLACEMENT", ctx):
        run_phase(graph, Phase.POST_PLACEMENT, ctx)
    request.placer.place(graph)  # nodes a pass added
    request.hooks.on_stage(Stage.PLACED, graph)
    if request.stops_at(Stage.PLACED):
        return CompiledSignature(graph, {}, Segmentation(), [], trace, ctx.history)
    return None
