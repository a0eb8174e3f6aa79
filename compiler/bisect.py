"""``bisect()``: find the first pass application that changes a compiled net's results.

Bisect drives the whole pipeline (``compile_signature``), so it counts the
pass applications of every phase, per partition and per segment (the
backend's SEGMENT passes too), and it compares what the compiled segments
compute on the configured backend, not one phase's reference evaluation.
The expected result comes from the compile with only the required passes
(bisect limit 0); every trial compiles again with a bisect limit and runs the
segments; halving the interval between a good and a bad limit names the first
bad application in log2(N) trials. A trial whose compile or run raises (e.g.
a PassError from verification) counts as bad.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np

from netjit.backends import get_backend
from netjit.backends.base import DictStateStore
from netjit.config import SessionConfig
from netjit.errors import InvalidArgumentError
from netjit.passes import PassInstrument, Phase, outputs_differ
from netjit.passes.options import CONFIG_FIELDS

from .compile_trace import CompileTrace
from .frontend.lowering import feed_type
from .ir import Graph
from .ops import TensorType
from .pipeline import CompiledSignature, Hooks, Request, compile_lowered, compile_signature
from .placement import Placer, local_devices

#: PassOptions field -> the SessionConfig field that sets it.
OPTION_FIELDS = {opt: cfg for cfg, opt in CONFIG_FIELDS.items()}


@dataclass
class BisectResult:
    """The first bad application (``index`` None when no application changes results)."""

    index: Optional[int]
    pass_name: Optional[str]
    phase: Optional[Phase]
    origin: Optional[str]
    applications: int
    detail: str = ""
    #: (limit, "good" | "bad: why") for every trial, in the order run.
    trials: list = field(default_factory=list)
    #: The graph (partition or segment) the bad application rewrote.
    graph_name: str = ""

    @property
    def found(self) -> bool:
        return self.index is not None

    def __str__(self) -> str:
        if not self.found:
            return f"no pass application changes the results ({self.applications} applications)"
        return (f"first bad pass application: {self.index} of {self.applications}, pass "
                f"{self.pass_name!r} ({self.origin}) in phase {self.phase.name} on {self.graph_name!r}: "
                f"{self.detail}")


def run_segments(compiled: CompiledSignature, feeds: Mapping[str, np.ndarray]) -> list:
    """The fetches of a compiled signature: its segments run one after another, in plan order."""
    values = {("feed", k): np.asarray(v) for k, v in feeds.items()}
    state = DictStateStore()
    for seg, exe in zip(compiled.segmentation.segments, compiled.executables):
        key_of = {seg.graph.name_of_input(n): key for n, key in zip(seg.graph.inputs, seg.inputs)}
        outs = exe([values[key_of[name]] for name in exe.input_names], state)
        for keys, value in zip(seg.outputs, outs):
            values.update(dict.fromkeys(keys, value))
    return [values[key] for key in compiled.segmentation.fetches]


class _Recorder(PassInstrument):
    """Every pass application that starts running (a failing one included)."""

    def __init__(self):
        self.applications: list = []

    def run_before_pass(self, graph, app, ctx):
        self.applications.append(app)


class _Trials:
    """Compiles with a bisect limit through the pipeline, runs the segments and compares."""

    def __init__(self, program, feeds: dict, fetches, targets, config: SessionConfig, tol):
        self.program, self.feeds, self.fetches, self.targets = program, feeds, fetches, targets
        self.config, self.tol = config, tol
        self.log: list = []
        self.why: dict = {}

    def compile(self, limit: Optional[int], hooks: Hooks) -> CompiledSignature:
        config = dataclasses.replace(self.config, bisect_limit=limit)
        placer = Placer([d.name for d in local_devices(config.device_count)],
                        allow_soft_placement=config.allow_soft_placement)
        backend = get_backend(config.backend)
        if isinstance(self.program, Graph):
            graph = self.program.copy()
            names = [graph.name_of_input(n) for n in graph.inputs]
            request = Request(graph.name, config, placer, backend, names, [str(v) for v in graph.outputs],
                              hooks=hooks)
            return compile_lowered(graph, request, CompileTrace())
        types = {k: feed_type(TensorType.of(v)) for k, v in self.feeds.items()}
        return compile_signature(self.program.ops, self.program.name, types, self.fetches, self.targets,
                                 config, placer, backend, hooks=hooks)

    def run(self, limit: Optional[int]):
        """(outputs or the exception raised instead, the pass applications that ran)."""
        recorder = _Recorder()
        try:
            compiled = self.compile(limit, Hooks([recorder]))
            return run_segments(compiled, self.feeds), recorder.applications
        except Exception as exc:  # noqa: BLE001 - a broken pass, verifier or miscompile: a bad trial
            return exc, recorder.applications

    def bad(self, limit: int, expected) -> Optional[str]:
        out, _ = self.run(limit)
        why = f"{type(out).__name__}: {out}" if isinstance(out, Exception) else outputs_differ(expected, out,
                                                                                                 *self.tol)
        self.log.append((limit, "good" if why is None else f"bad: {why}"))
        self.why[limit] = why
        return why


def trial_config(config: Optional[SessionConfig], options: dict) -> SessionConfig:
    """``config`` untiered, without dumps, verifying passes (unless ``verify=False``), with the
    pass ``options`` (PassOptions names: ``opt_level=3``, ``disabled=...``) set."""
    unknown = sorted(set(options) - set(OPTION_FIELDS))
    if unknown:
        raise InvalidArgumentError(f"bisect: unknown pass options {unknown}; options: {sorted(OPTION_FIELDS)}")
    fields = {OPTION_FIELDS[k]: v for k, v in {"verify": True, **options}.items()}
    return dataclasses.replace(config or SessionConfig(), tiered=False, dump_dir=None, **fields)


def bisect(net_or_graph, feeds: Mapping, fetches=(), targets=(), *, config: Optional[SessionConfig] = None,
           rtol: Optional[float] = None, atol: Optional[float] = None, **options) -> BisectResult:
    """Find the first pass application whose compiled result differs from the unoptimised one.

    ``feeds`` maps blob names to arrays; ``fetches``/``targets`` name blobs of a
    Net (a Graph brings its own outputs). ``config`` (a SessionConfig) chooses
    backend and devices; ``options`` are pass options (``opt_level=3``,
    ``disabled=...``); verification is on unless ``verify=False``. Raises what
    the unoptimised compile or run raises, if it fails.
    """
    feeds = {str(k): v for k, v in feeds.items()}
    fetches = [str(f) for f in ([fetches] if isinstance(fetches, str) else list(fetches or ()))]
    trials = _Trials(net_or_graph, feeds, fetches, [str(t) for t in targets], trial_config(config, options),
                     (rtol, atol))
    _check_feeds(net_or_graph, feeds)
    expected, _ = trials.run(0)
    if isinstance(expected, Exception):
        raise expected
    _, history = trials.run(None)
    total = max((a.index for a in history), default=0)
    if trials.bad(total, expected) is None:
        return BisectResult(None, None, None, None, total, trials=trials.log)
    good, bad = 0, total
    while bad - good > 1:
        mid = (good + bad) // 2
        if trials.bad(mid, expected) is None:
            good = mid
        else:
            bad = mid
    _, history = trials.run(bad)
    app = next(a for a in history if a.index == bad)
    return BisectResult(bad, app.name, app.phase, app.info.origin, total, trials.why[bad] or "",
                        trials.log, app.graph_name)


def _check_feeds(program, feeds: Mapping) -> None:
    if isinstance(program, Graph):
        missing = [n for n in (program.name_of_input(i) for i in program.inputs) if n not in feeds]
        if missing:
            raise InvalidArgumentError(f"bisect of {program.name!r}: no feed for {missing}")
