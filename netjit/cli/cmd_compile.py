"""``netjit compile`` (dump every stage of a compile) and ``netjit run`` (feeds in, fetches out)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from netjit.backends import get_backend
from netjit.compiler import pipeline
from netjit.errors import UnimplementedError

from .cmd_inspect import add_signature_args, config_of
from .console import Out
from .inputs import load_net, signature
from .stages import STAGES, compile_stages


def _safe(name: str) -> str:
    return name.replace("/", "_").replace("\\", "_")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n")


def _compile(net, sig, config, out: Out):
    """Run every available stage under a (delayed) progress bar; the last stage reached and why not further."""
    unavailable = ""
    with out.progress(len(STAGES) + 1, f"compiling {net.name}") as bar:
        try:
            compiled = compile_stages(net, sig, "partitioned", config, snapshot=lambda n: True,
                                      on_step=bar.advance)
        except UnimplementedError as exc:
            unavailable = str(exc)
            compiled = compile_stages(net, sig, "optimized", config, snapshot=lambda n: True)
        graph = compiled.stages["optimized"]
        t0 = time.perf_counter()
        executable = pipeline.compile_graph(graph.copy(), get_backend(config.backend))
        compiled.seconds["backend"] = time.perf_counter() - t0
        bar.advance("backend")
    return compiled, executable, unavailable


def _dump(compiled, executable, directory: Path, backend: str) -> list[str]:
    """Write the stage files; returns the notes about what could not be written."""
    notes = []
    for i, stage in enumerate(compiled.stages):
        _write(directory / f"stage-{i}-{stage}.txt", str(compiled.stages[stage]))
    for index, name, graph in compiled.after_pass:
        _write(directory / "passes" / f"{index:03d}-{_safe(name)}.txt", f"# after {name}\n{graph}")
    for k, part in enumerate(compiled.partitions):
        _write(directory / "partitions" / f"partition-{k}.txt", str(part))
    sources = getattr(executable, "sources", None)
    if isinstance(sources, dict) and sources:
        for seg, src in sources.items():
            _write(directory / "source" / f"{_safe(str(seg))}.py", src)
    else:
        notes.append(f"generated source: backend {backend!r} exposes none (the reference backend "
                     "interprets the graph)")
    return notes


def run_compile(args, out: Out) -> int:
    net = load_net(args.net)
    sig = signature(net, args.feed, args.fetch)
    config = config_of(args, backend=args.backend)
    compiled, executable, unavailable = _compile(net, sig, config, out)
    notes = [unavailable] if unavailable else []
    directory = Path(args.dump_dir) if args.dump_dir else None
    if directory is not None:
        notes += _dump(compiled, executable, directory, config.backend)
    stage_rows = [(s, len(g), f"{compiled.seconds.get(s, 0) * 1e3:.2f}") for s, g in compiled.stages.items()]
    stage_rows.append(("backend " + config.backend, "", f"{compiled.seconds['backend'] * 1e3:.2f}"))
    out.table(["stage", "nodes", "ms"], stage_rows, title=f"compile of net {net.name!r}", justify="lrr")
    if compiled.applications:
        out.table(["#", "pass", "phase", "ms", "nodes", "changed"],
                  [(a.index, a.name, a.phase.name, f"{a.seconds * 1e3:.3f}", f"{a.nodes_before}->{a.nodes_after}",
                    "skipped" if a.skipped else ("yes" if a.changed else "-")) for a in compiled.applications],
                  title="pass applications", justify="rlrrrl")
    cache = getattr(executable, "cache_stats", None)
    notes.append(f"backend cache: {cache}" if cache else "backend cache: not reported by this backend")
    for note in notes:
        out.line(f"note: {note}")
    if directory is not None:
        summary = {"net": net.name, "feeds": sorted(sig.feeds), "fetches": sig.fetches,
                   "stages": {s: {"nodes": n, "ms": float(ms)} for s, n, ms in stage_rows[:-1]},
                   "backend": {"name": config.backend, "ms": compiled.seconds["backend"] * 1e3},
                   "passes": [a.as_dict() for a in compiled.applications], "notes": notes}
        _write(directory / "summary.json", json.dumps(summary, indent=1))
        out.line(f"wrote the compile of {net.name!r} to {directory}/")
    return 0


def add_compile(sub) -> None:
    p = sub.add_parser("compile", help="compile a net and dump every stage (IR after each pass, partitions, ...)",
                       description="Compile NET for its fetches and print a summary: per-stage and per-pass "
                                   "time and node counts. With --dump-dir, write the IR after every pass "
                                   "application, every stage and partition, generated source and summary.json.",
                       epilog="example: netjit compile demo.json --dump-dir dump/")
    p.add_argument("net", help="saved net (file.json) or path/to/module.py:function")
    p.add_argument("--dump-dir", metavar="DIR", help="write every stage into DIR")
    p.add_argument("--backend", default="reference", help="backend to compile with (default reference)")
    add_signature_args(p)
    p.set_defaults(run=run_compile)
