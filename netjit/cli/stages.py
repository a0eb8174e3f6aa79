"""The compile stages the tool shows, run through the real pipeline.

``lowered`` -> ``optimized`` -> ``placed`` -> ``partitioned``. Each stage is
what ``compiler.pipeline`` (and ``netjit.passes``) do for a Session; the tool
only snapshots the graph between them. A stage whose implementation has not
landed yet raises UnimplementedError saying so, never a made-up graph.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from netjit.compiler import pipeline
from netjit.compiler.ir import Graph
from netjit.compiler.ir.reachability import remove_unneeded
from netjit.config import SessionConfig
from netjit.errors import NotFoundError, UnimplementedError

from .inputs import Signature

STAGES = ("lowered", "optimized", "placed", "partitioned")


@dataclass
class Compiled:
    """Snapshots of one compile: a graph per stage reached, pass applications, timings."""

    stages: dict[str, Graph] = field(default_factory=dict)
    partitions: list[Graph] = field(default_factory=list)
    #: Pass applications (netjit.passes Application records) when the pass manager ran.
    applications: list = field(default_factory=list)
    #: (pass application index, pass name, graph after it) when snapshots were asked for.
    after_pass: list = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    #: The pipeline's CompiledSignature (segments, executables, trace) once placement ran.
    full: Optional[object] = None


def passes_api():
    """``netjit.passes`` if its pass manager has landed (make_context, run_phase, Phase), else None."""
    try:
        import netjit.passes as passes
    except ImportError:
        return None
    needed = ("make_context", "run_phase", "Phase")
    return passes if all(hasattr(passes, n) for n in needed) else None


def _snapshot_instrument(passes, keep: Callable[[str], bool], out: list, on_pass):
    class Snapshot(passes.PassInstrument if hasattr(passes, "PassInstrument") else object):
        """Copies the graph after the passes ``keep`` selects (for --after and diff)."""

        def run_after_pass(self, graph, app, ctx):
            if keep(app.name):
                out.append((app.index, app.name, graph.copy()))
            if on_pass is not None:
                on_pass(app.name)
    return Snapshot()


def compile_stages(net, sig: Signature, until: str = "optimized", config: Optional[SessionConfig] = None,
                   snapshot: Callable[[str], bool] = lambda name: False, on_step=None,
                   do_prune: bool = True) -> Compiled:
    """Run the pipeline on ``net`` up to stage ``until``, keeping a snapshot of each stage."""
    if until not in STAGES:
        raise NotFoundError(f"unknown stage {until!r}; stages: {', '.join(STAGES)}")
    config = config or SessionConfig()
    out = Compiled()
    t0 = time.perf_counter()
    graph, _ = pipeline.build_graph(net.ops, net.name, sig.feeds, sig.fetches)
    if do_prune:
        remove_unneeded(graph)
    _done(out, "lowered", graph, t0, on_step)
    if until == "lowered":
        return out
    t0 = time.perf_counter()
    graph = _optimize(graph.copy(), sig, config, out, snapshot, on_step)
    _done(out, "optimized", graph, t0, on_step)
    if until == "optimized":
        return out
    _later_stages(net, sig, until, config, out, on_step)
    return out


def _done(out: Compiled, stage: str, graph: Graph, t0: float, on_step) -> None:
    out.stages[stage] = graph
    out.seconds[stage] = time.perf_counter() - t0
    if on_step is not None:
        on_step(stage)


def _optimize(graph, sig, config, out: Compiled, snapshot, on_step) -> Graph:
    passes = passes_api()
    if passes is None:
        return pipeline.optimize(graph, config)
    inst = _snapshot_instrument(passes, snapshot, out.after_pass, on_step)
    # Dumps (config.dump_dir) belong to the real whole compile below, not to this snapshot run.
    ctx = passes.make_context(dataclasses.replace(config, dump_dir=None), sig.feeds, sig.fetches,
                              instruments=[inst])
    graph = pipeline.optimize(graph, config, ctx=ctx)
    out.applications = list(ctx.history)
    return graph


def _later_stages(net, sig, until, config, out: Compiled, on_step) -> None:
    """Placement, partitioning, segments and backend code: the pipeline's whole-signature compile."""
    compile_signature = getattr(pipeline, "compile_signature", None)
    if compile_signature is None:
        raise UnimplementedError(f"stage {until!r} is not available yet: the pipeline has no placement "
                                 "and partitioning (compiler/pipeline.py compile_signature); "
                                 "stages available: lowered, optimized")
    from netjit.backends import get_backend
    from netjit.compiler.placement import Placer, local_devices
    placer = Placer([d.name for d in local_devices(config.device_count)],
                    allow_soft_placement=config.allow_soft_placement)
    t0 = time.perf_counter()
    full = compile_signature(net.ops, net.name, sig.feeds, sig.fetches, (), config, placer,
                             get_backend(config.backend))
    out.full = full
    out.stages["placed"] = full.graph
    out.partitions = [full.partitions[d] for d in sorted(full.partitions)]
    out.seconds["placed"] = sum(e.duration for e in full.trace.events if e.name in ("placement", "POST_PLACEMENT"))
    out.seconds["partitioned"] = time.perf_counter() - t0 - out.seconds["placed"]
    if on_step is not None:
        on_step("placed")
        on_step("partitioned")


def graph_after_pass(net, sig: Signature, pass_name: str, config=None) -> Graph:
    """The graph right after the first application of ``pass_name``."""
    if passes_api() is None:
        raise UnimplementedError("--after PASS needs the pass manager (netjit.passes), which has not "
                                 "landed yet; use --stage lowered|optimized")
    compiled = compile_stages(net, sig, "optimized", config, snapshot=lambda n: n == pass_name)
    if not compiled.after_pass:
        ran = ", ".join(a.name for a in compiled.applications) or "(none)"
        raise NotFoundError(f"pass {pass_name!r} did not run on net {net.name!r}; passes that ran: {ran}")
    return compiled.after_pass[0][2]
