"""Pass instruments (TVM's PassInstrument): hooks around every pass application.

Timing, IR dumps and verification are instruments; a user adds their own with
``ctx.add_instrument(obj)``. Every hook is optional.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from netjit.errors import InvalidArgumentError, PassError

from .options import PassOptions


class PassInstrument:
    """Base class: override any of the four hooks."""

    def enter_phase(self, graph, phase, ctx) -> None:
        """Called before the first pass of a phase runs."""

    def exit_phase(self, graph, phase, ctx) -> None:
        """Called after the phase finished without error."""

    def run_before_pass(self, graph, app, ctx) -> None:
        """Called before ``app`` (an Application) runs; not for skipped applications."""

    def run_after_pass(self, graph, app, ctx) -> None:
        """Called after ``app`` ran; ``app.changed`` says whether it changed the graph."""


class TimingInstrument(PassInstrument):
    """Wall time and node counts per application (stored on the Application)."""

    def __init__(self):
        self._start = 0.0

    def run_before_pass(self, graph, app, ctx):
        app.nodes_before = len(graph)
        self._start = time.perf_counter()

    def run_after_pass(self, graph, app, ctx):
        app.seconds = time.perf_counter() - self._start
        app.nodes_after = len(graph)
        ctx.logger.debug("pass %s: %.3f ms, %d -> %d nodes%s", app.name, app.seconds * 1e3,
                         app.nodes_before, app.nodes_after, "" if app.changed else " (no change)")


def _signature(graph):
    return list(graph.inputs), [graph.type(v) for v in graph.outputs]


class VerifyInstrument(PassInstrument):
    """Graph.verify() after every pass, plus the compile signature must not change."""

    def enter_phase(self, graph, phase, ctx):
        try:
            graph.verify()
        except InvalidArgumentError as exc:
            raise PassError(f"the graph {graph.name!r} given to phase {phase.name} does not "
                            f"verify (before any pass ran): {exc}") from None

    def __init__(self):
        self._before = None

    def run_before_pass(self, graph, app, ctx):
        self._before = _signature(graph)

    def run_after_pass(self, graph, app, ctx):
        try:
            graph.verify()
            self._check_signature(graph, self._before)
        except InvalidArgumentError as exc:
            raise PassError(broken_message(app, ctx, graph, exc)) from None

    @staticmethod
    def _check_signature(graph, before):
        inputs, out_types = before
        if list(graph.inputs) != inputs:
            raise InvalidArgumentError(f"graph inputs changed from {inputs} to {list(graph.inputs)}")
        now = [graph.type(v) for v in graph.outputs]
        if len(now) != len(out_types) or not all(a.accepts(b) for a, b in zip(out_types, now)):
            raise InvalidArgumentError(f"output types changed from {list(map(str, out_types))} "
                                       f"to {list(map(str, now))}")


def broken_message(app, ctx, graph, complaint) -> str:
    """The PassError text for a pass that broke the graph or raised."""
    before = ctx.ran_before()
    before = before[:-1] if before and before[-1] == app.name else before
    return (f"pass {app.name!r} ({app.info.origin}; phase {app.phase.name}, application "
            f"{app.index}) broke graph {graph.name!r}: {complaint}\n"
            f"  passes applied before it: {', '.join(before) or '(none)'}")


class DumpInstrument(PassInstrument):
    """IR text after every application into ``dump_dir/<graph>/NNN-<pass>.txt``, plus a summary."""

    def __init__(self, dump_dir):
        self.root = Path(dump_dir)
        self.dir = None

    def _directory(self, graph) -> Path:
        if self.dir is None:
            base = self.root / graph.name.replace("/", "_")
            candidate, k = base, 1
            while candidate.exists():  # a later compile of the same net: a fresh folder
                k += 1
                candidate = base.with_name(f"{base.name}.{k}")
            candidate.mkdir(parents=True)
            self.dir = candidate
        return self.dir

    def enter_phase(self, graph, phase, ctx):
        stem = f"{len(ctx.history):03d}-input-{phase.name.lower()}"
        path, k = self._directory(graph) / f"{stem}.txt", 1
        while path.exists():  # one phase run per partition: number them
            k += 1
            path = path.with_name(f"{stem}-{k}.txt")
        path.write_text(str(graph) + "\n")

    def run_after_pass(self, graph, app, ctx):
        path = self._directory(graph) / f"{app.index:03d}-{app.name}.txt"
        header = f"# after {app.name} ({app.phase.name}, iteration {app.iteration}): " \
                 f"{'changed' if app.changed else 'unchanged'}\n"
        path.write_text(header + str(graph) + "\n")

    def exit_phase(self, graph, phase, ctx):
        write_summary(self._directory(graph), ctx.history)


def write_summary(directory: Path, history) -> None:
    """summary.txt (a table) and summary.json for the applications so far."""
    rows = [a.as_dict() for a in history]
    (directory / "summary.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [f"{'#':>4} {'pass':24} {'phase':18} {'ms':>9} {'nodes':>11}  status"]
    for r in rows:
        status = "skipped (bisect)" if r["skipped"] else ("changed" if r["changed"] else "-")
        lines.append(f"{r['index']:>4} {r['pass'][:24]:24} {r['phase']:18} "
                     f"{r['seconds'] * 1e3:>9.3f} {r['nodes_before']:>5}->{r['nodes_after']:<5}  {status}")
    (directory / "summary.txt").write_text("\n".join(lines) + "\n")


def standard_instruments(options: PassOptions) -> list:
    """Timing always; verification and dumps when the options ask for them."""
    out: list = [TimingInstrument()]
    if options.verify:
        out.append(VerifyInstrument())
    if options.dump_dir:
        out.append(DumpInstrument(os.fspath(options.dump_dir)))
    return out
