"""Tiered deferral: the pass phases wait for the backend's compile thread.

With a tiered backend on one device, ``compile_deferred`` prunes, places,
partitions and splits the graph and hands each segment to the backend, whose
reference tier answers the first calls while every pass phase
(``optimize_segment``) and code generation run on its compile thread: the
first result does not wait for them (on a 200-op chain they cost twice the
rest of the compile). Pruning decides what runs (an Assign nobody needs must
not), so it comes first; the other passes, plugins' too, only rewrite how it
is computed, and every op has a reference implementation to run unrewritten.
The segmentation keeps the segment's inputs and outputs, which passes
preserve (``optimize_segment`` checks). A pass that fails there fails the
calls after the first, as a failed numba compile does.
"""
from __future__ import annotations

import dataclasses
import functools
import os

from netjit.config import verify_passes_by_default
from netjit.errors import CompilationError
from netjit.passes import Phase, run_phase

from .compile_trace import CompileTrace
from .ir import Graph
from .ir.reachability import remove_unneeded
from .placement import Placer
from .stages import (CompiledSignature, Request, Stage, backend_options, compile_segments, partition_graph,
                     run_segment_phase, split_segments)


def defers_passes(request: Request) -> bool:
    """Whether the passes may wait until after the first result.

    Only on one device: there a signature is at most one segment, so the
    passes see the whole graph either way. Never with a dump directory, whose
    reader wants the optimised graphs written by the time the run returns, nor
    while passes are verified (``SessionConfig.verify_passes``; by default under
    pytest and with ``NETJIT_DEBUG=1``): a pass or verifier error must fail the
    call that compiled, not a later one. Never when a caller stops early
    (``until``) or observes stages: they want them now.
    """
    config = request.config
    return (not request.by_feeds and len(request.placer.devices) == 1 and request.until is None
            and request.backend.supports_deferral and bool(getattr(config, "tiered", False))
            and not getattr(config, "dump_dir", None) and not os.environ.get("NETJIT_DUMP_DIR")
            and not _verifies_passes(config))


def _verifies_passes(config) -> bool:
    """``PassOptions.verify`` as the passes will resolve it."""
    verify = getattr(config, "verify_passes", None)
    return bool(verify) if verify is not None else verify_passes_by_default(os.environ)


def compile_deferred(graph: Graph, request: Request, trace: CompileTrace) -> CompiledSignature:
    """Prune, place, partition and split the graph; the backend runs the passes later."""
    with trace.span("prune", "compile"):
        remove_unneeded(graph)
    with trace.span("placement", "compile", devices=list(request.placer.devices)):
        request.placer.place(graph)
    parts = partition_graph(graph, trace)
    segmentation = split_segments(parts, trace, False, request.name)
    signature = CompiledSignature(graph, parts.graphs, segmentation, [], trace)

    def compile_one(seg):
        prepare = functools.partial(optimize_segment, signature, request, seg)
        return request.backend.compile_deferred(seg.graph, prepare, **backend_options(request.config))
    signature.executables = compile_segments(segmentation, trace, request.backend, compile_one)
    trace.seal()
    return signature


def optimize_segment(signature: CompiledSignature, request: Request, seg, graph: Graph) -> Graph:
    """Run every pass phase on a deferred signature's one segment ``graph``, in place.

    Called by the backend, usually on its compile thread. The timings join the
    signature's compile trace, the applications its ``applications``, and its
    graph and partition become the optimised ones, for run metadata.
    """
    trace, hooks, device = signature.trace, request.hooks, seg.device
    ctx = request.pass_context()
    # places what the passes add (every node there was is placed); this device is the only one
    placer = Placer([device], allow_soft_placement=bool(getattr(request.config, "allow_soft_placement", False)))
    n_inputs, n_outputs = len(graph.inputs), len(graph.outputs)
    with trace.passes("PRE_PLACEMENT", ctx):
        run_phase(graph, Phase.PRE_PLACEMENT, ctx)
    hooks.on_stage(Stage.OPTIMIZED, graph)
    placer.place(graph)
    with trace.passes("POST_PLACEMENT", ctx):
        run_phase(graph, Phase.POST_PLACEMENT, ctx)
    placer.place(graph)
    hooks.on_stage(Stage.PLACED, graph)
    with trace.passes(f"POST_PARTITIONING {device}", ctx):
        run_phase(graph, Phase.POST_PARTITIONING, ctx)
    hooks.on_stage(Stage.PARTITIONED, {device: graph})
    if (len(graph.inputs), len(graph.outputs)) != (n_inputs, n_outputs):
        raise CompilationError(f"the passes changed segment {graph.name!r}'s signature: "
                               f"{n_inputs} inputs and {n_outputs} outputs became "
                               f"{len(graph.inputs)} and {len(graph.outputs)}")
    run_segment_phase(graph, ctx, trace)
    hooks.on_stage(Stage.SEGMENTS, dataclasses.replace(signature.segmentation,
                                                       segments=[dataclasses.replace(seg, graph=graph)]))
    shown = graph.copy()
    shown.name = signature.partitions[device].name
    signature.graph = shown
    signature.partitions = {device: shown}
    signature.applications = ctx.history
    return graph
