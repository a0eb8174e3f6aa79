"""The compile stages the tool shows: snapshots taken by the pipeline's hooks.

``lowered`` -> ``optimized`` -> ``placed`` -> ``partitioned``. The tool runs
``compiler.pipeline.compile_signature`` once, as a Session would (untiered, so
every pass runs before it returns), and keeps a copy of the graph at each
stage it reaches (``Hooks.on_stage``) and, when asked, after pass
applications (a pass instrument): it never composes the stages itself.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import netjit.passes as passes_module
from netjit.backends import get_backend
from netjit.compiler import pipeline
from netjit.compiler.ir import Graph
from netjit.compiler.ir.reachability import remove_unneeded
from netjit.compiler.pipeline import Hooks, Stage
from netjit.compiler.placement import Placer, local_devices
from netjit.config import SessionConfig
from netjit.errors import NotFoundError
from netjit.passes import PassInstrument

from .inputs import Signature

STAGES = ("lowered", "optimized", "placed", "partitioned")


@dataclass
class Compiled:
    """Snapshots of one compile: a graph per stage reached, pass applications, timings."""

    stages: dict[str, Graph] = field(default_factory=dict)
    partitions: list[Graph] = field(default_factory=list)
    #: Pass applications (netjit.passes Application records), every phase.
    applications: list = field(default_factory=list)
    #: (pass application index, pass name, graph after it) when snapshots were asked for.
    after_pass: list = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    #: The pipeline's CompiledSignature (segments, executables, trace) of a whole compile.
    full: Optional[object] = None


def passes_api():
    """``netjit.passes`` (the pass registry, manager and instruments)."""
    return passes_module


class _Snapshots(PassInstrument):
    """Copies the graph after the pass applications ``keep`` selects (for --after and diff)."""

    def __init__(self, keep: Callable[[str], bool], out: list, on_step):
        self.keep, self.out, self.on_step = keep, out, on_step

    def run_after_pass(self, graph, app, ctx):
        if self.keep(app.name):
            self.out.append((app.index, app.name, graph.copy()))
        if self.on_step is not None:
            self.on_step(app.name)


class _StageHooks(Hooks):
    """Keeps a copy of each stage's graph(s) and the time since the previous stage."""

    def __init__(self, out: Compiled, snapshot, on_step, prune_lowered: bool):
        super().__init__([_Snapshots(snapshot, out.after_pass, on_step)])
        self.out, self.on_step, self.prune_lowered = out, on_step, prune_lowered
        self.t0 = time.perf_counter()

    def on_stage(self, stage: Stage, value) -> None:
        now = time.perf_counter()
        if stage is Stage.PARTITIONED:
            self.out.partitions = [value[d].copy() for d in sorted(value)]
        elif stage is not Stage.SEGMENTS:
            graph = value.copy()
            if stage is Stage.LOWERED and self.prune_lowered:
                remove_unneeded(graph)   # what the required prune pass removes first
            self.out.stages[stage.value] = graph
        self.out.seconds[stage.value] = now - self.t0
        self.t0 = now
        if self.on_step is not None:
            self.on_step(stage.value)


def compile_stages(net, sig: Signature, until: Optional[str] = "optimized", config: Optional[SessionConfig] = None,
                   snapshot: Callable[[str], bool] = lambda name: False, on_step=None,
                   do_prune: bool = True) -> Compiled:
    """Run the pipeline on ``net`` up to stage ``until`` (None: through the backend, and
    ``"segments"``: through the SEGMENT passes), keeping a snapshot of each stage."""
    if until is not None and until not in STAGES + ("segments",):
        raise NotFoundError(f"unknown stage {until!r}; stages: {', '.join(STAGES)}")
    # untiered: a tiered backend would run the passes later, on its compile thread
    config = dataclasses.replace(config or SessionConfig(), tiered=False)
    out = Compiled()
    placer = Placer([d.name for d in local_devices(config.device_count)],
                    allow_soft_placement=config.allow_soft_placement)
    full = pipeline.compile_signature(net.ops, net.name, sig.feeds, sig.fetches, (), config, placer,
                                      get_backend(config.backend), hooks=_StageHooks(out, snapshot, on_step, do_prune),
                                      until=Stage(until) if until is not None else None)
    out.applications = list(full.applications)
    if until is None:
        out.full = full
    return out


def graph_after_pass(net, sig: Signature, pass_name: str, config=None) -> Graph:
    """The graph right after the first application of ``pass_name`` (any phase)."""
    compiled = compile_stages(net, sig, "segments", config, snapshot=lambda n: n == pass_name)
    if not compiled.after_pass:
        ran = ", ".join(a.name for a in compiled.applications) or "(none)"
        raise NotFoundError(f"pass {pass_name!r} did not run on net {net.name!r}; passes that ran: {ran}")
    return compiled.after_pass[0][2]
