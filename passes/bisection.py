"""``bisect()``: find the first pass application that changes a graph's results.

The reference result comes from the graph with only the required passes run
(bisect limit 0) on the reference backend. Every trial re-runs the passes on
a fresh copy with a bisect limit and compares; halving the interval between
a good and a bad limit names the first bad application in log2(N) trials. A
trial whose passes raise (e.g. a PassError from verification) or whose graph
fails to run counts as bad.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np

from netjit.backends.reference import evaluate
from netjit.compiler.ir import Graph
from netjit.compiler.ops import FLOAT_DTYPES, TensorType
from netjit.errors import InvalidArgumentError, NetjitError

from .context import make_context
from .manager import run_phase
from .phase import Phase

#: Default (rtol, atol) per float dtype: a few hundred ulps, enough for
#: reassociation or strength reduction, far below any real miscompile.
TOLERANCES = {np.dtype(np.float32): (1e-5, 1e-6), np.dtype(np.float64): (1e-12, 1e-14)}


def outputs_differ(expected: Sequence, actual: Sequence, rtol=None, atol=None) -> Optional[str]:
    """None if the outputs agree (NaN equals NaN), else what differs first."""
    if len(expected) != len(actual):
        return f"{len(actual)} outputs instead of {len(expected)}"
    for i, (e, a) in enumerate(zip(expected, actual)):
        e, a = np.asarray(e), np.asarray(a)
        if e.shape != a.shape or e.dtype != a.dtype:
            return f"output {i} is {TensorType.of(a)} instead of {TensorType.of(e)}"
        if e.dtype in FLOAT_DTYPES:
            r, t = TOLERANCES[e.dtype]
            ok = np.allclose(a, e, rtol=r if rtol is None else rtol, atol=t if atol is None else atol,
                             equal_nan=True)
        else:
            ok = np.array_equal(a, e)
        if not ok:
            return f"output {i} differs: expected {np.array2string(e, threshold=8)}, " \
                   f"got {np.array2string(a, threshold=8)}"
    return None


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

    @property
    def found(self) -> bool:
        return self.index is not None

    def __str__(self) -> str:
        if not self.found:
            return f"no pass application changes the results ({self.applications} applications)"
        return (f"first bad pass application: {self.index} of {self.applications}, pass "
                f"{self.pass_name!r} ({self.origin}) in phase {self.phase.name}: {self.detail}")


def as_graph(net_or_graph, feeds: Mapping, fetches, targets=()) -> Graph:
    """A Graph, or a Net lowered for these feeds and fetches (not optimised)."""
    if isinstance(net_or_graph, Graph):
        return net_or_graph.copy()
    from netjit.compiler.frontend.lowering import feed_type  # the tool sits above the pipeline
    from netjit.compiler.pipeline import build_graph
    fetches = [fetches] if isinstance(fetches, str) else list(fetches or ())
    types = {str(k): feed_type(TensorType.of(v)) for k, v in feeds.items()}
    graph, _ = build_graph(net_or_graph.ops, net_or_graph.name, types,
                           [str(f) for f in fetches], [str(t) for t in targets])
    return graph


class _Trials:
    """Runs the passes with a bisect limit on fresh copies and compares."""

    def __init__(self, graph, feeds, phases, config, tol, options):
        self.graph, self.phases, self.config, self.tol = graph, phases, config, tol
        self.options = {"verify": True, **options}
        names = [graph.name_of_input(n) for n in graph.inputs]
        missing = [n for n in names if n not in feeds]
        if missing:
            raise InvalidArgumentError(f"bisect of {graph.name!r}: no feed for {missing}")
        self.inputs = [np.asarray(feeds[n]) for n in names]
        self.log: list = []
        self.why: dict = {}

    def run(self, limit):
        """(outputs, history); outputs is the NetjitError raised instead, if any."""
        g = self.graph.copy()
        ctx = make_context(self.config, bisect_limit=limit, **self.options)
        try:
            for phase in self.phases:
                run_phase(g, phase, ctx)
            return evaluate(g, self.inputs), ctx.history
        except NetjitError as exc:
            return exc, ctx.history

    def bad(self, limit, expected) -> Optional[str]:
        out, _ = self.run(limit)
        if isinstance(out, NetjitError):
            why = f"{type(out).__name__}: {out}"
        else:
            why = outputs_differ(expected, out, *self.tol)
        self.log.append((limit, "good" if why is None else f"bad: {why}"))
        self.why[limit] = why
        return why


def bisect(net_or_graph, feeds: Mapping, fetches=(), targets=(), *,
           phases: Sequence = (Phase.PRE_PLACEMENT,), config=None,
           rtol: Optional[float] = None, atol: Optional[float] = None, **options) -> BisectResult:
    """Find the first pass application whose output differs from the unoptimised run.

    ``feeds`` maps blob names to arrays; ``fetches``/``targets`` name blobs of a
    Net (a Graph brings its own outputs). ``options`` are pass options
    (``opt_level=3``, ``disabled=...``); verification is on unless
    ``verify=False``. Raises what the unoptimised run raises, if it fails.
    """
    feeds = {str(k): v for k, v in feeds.items()}
    graph = as_graph(net_or_graph, feeds, fetches, targets)
    trials = _Trials(graph, feeds, [Phase.parse(p) for p in phases], config, (rtol, atol), options)
    expected, _ = trials.run(0)
    if isinstance(expected, NetjitError):
        raise expected
    _, history = trials.run(None)
    total = len(history)
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
    app = history[bad - 1]
    return BisectResult(bad, app.name, app.phase, app.info.origin, total, trials.why[bad] or "",
                        trials.log)
