"""``netjit compile`` (dump every stage of a compile) and ``netjit run`` (feeds in, fetches out)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .args import add_signature_args, command, config_of
from .console import Out
from .inputs import load_net, signature
from .stages import STAGES, compile_stages


def _safe(name: str) -> str:
    return name.replace("/", "_").replace("\\", "_").replace(":", "_")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n")


def _compile(net, sig, config, out: Out):
    """The whole compile under a (delayed) progress bar; returns (compiled, segment rows, notes)."""
    with out.progress(len(STAGES) + 1, f"compiling {net.name}") as bar:
        compiled = compile_stages(net, sig, None, config, snapshot=lambda n: True, on_step=bar.advance)
        bar.advance("backend")
    return compiled, _segments(compiled.full), []


def pass_history(compiled, pass_dir: Path) -> list[dict]:
    """Every pass application of the whole compile (all phases), from the pass manager's dump
    summary when it wrote one, else from the compile's applications."""
    summaries = sorted(pass_dir.glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
    if summaries:
        return json.loads(summaries[-1].read_text())
    return [a.as_dict() for a in compiled.applications]


def _segments(full) -> list[tuple]:
    """(name, device, nodes, compile seconds, executable) per segment of the pipeline's plan."""
    spans = {e.name: e for e in full.trace.events}
    rows = []
    for seg, exe in zip(full.segmentation.segments, full.executables):
        span = spans.get(f"compile {seg.name}")
        rows.append((seg.name, seg.device, len(seg.graph), span.duration if span else 0.0, exe))
    return rows


def _dump(compiled, segments, directory: Path, backend: str) -> list[str]:
    """Write the stage files; returns notes about what could not be written."""
    for i, stage in enumerate(compiled.stages):
        _write(directory / f"stage-{i}-{stage}.txt", str(compiled.stages[stage]))
    if not any((directory / "passes").glob("*/*.txt")):  # the pass manager did not dump: our snapshots
        for index, name, graph in compiled.after_pass:
            _write(directory / "passes" / f"{index:03d}-{_safe(name)}.txt", f"# after {name}\n{graph}")
    for part in compiled.partitions:
        _write(directory / "partitions" / f"{_safe(part.name)}.txt", str(part))
    missing = []
    for name, _, _, _, exe in segments:
        _write(directory / "segments" / f"{_safe(name)}.txt", str(exe_graph(compiled.full, name)))
        source = exe.source
        if source:
            wrapper, suffix = exe.wrapper_source, exe.source_suffix      # the native code generator's is LLVM IR
            _write(directory / "source" / f"{_safe(name)}{suffix}",
                   source + ("\n# wrapper\n" + wrapper if wrapper else ""))
        else:
            missing.append(name)
    return [f"generated source: backend {backend!r} generates none for {len(missing)} segment(s) "
            "(the reference backend interprets the graph)"] if missing else []


def exe_graph(full, name: str):
    return next(seg.graph for seg in full.segmentation.segments if seg.name == name)


def run_compile(args, out: Out) -> int:
    net = load_net(args.net)
    sig = signature(net, args.feed, args.fetch)
    directory = Path(args.dump_dir) if args.dump_dir else None
    with tempfile.TemporaryDirectory() as tmp:
        pass_dir = directory / "passes" if directory is not None else Path(tmp)
        # not tiered: the summary and dumps are of the compiled code, not of a reference stand-in
        config = config_of(args, backend=args.backend, dump_dir=str(pass_dir), tiered=False)
        compiled, segments, notes = _compile(net, sig, config, out)
        history = pass_history(compiled, pass_dir)
    if directory is not None:
        notes += _dump(compiled, segments, directory, config.backend)
    stage_rows = [(s, len(g), f"{compiled.seconds.get(s, 0) * 1e3:.2f}") for s, g in compiled.stages.items()]
    out.table(["stage", "nodes", "ms"], stage_rows, title=f"compile of net {net.name!r}", justify="lrr")
    if history:
        out.table(["#", "pass", "phase", "graph", "ms", "nodes", "changed"],
                  [(a["index"], a["pass"], a["phase"], a["graph"], f"{a['seconds'] * 1e3:.3f}",
                    f"{a['nodes_before']}->{a['nodes_after']}",
                    "skipped" if a["skipped"] else ("yes" if a["changed"] else "-")) for a in history],
                  title="pass applications", justify="rlllrrl")
    seg_rows = [(n, d, k, f"{sec * 1e3:.2f}", e.tier, _cache(e)) for n, d, k, sec, e in segments]
    out.table(["segment", "device", "nodes", "compile ms", "tier", "cache"], seg_rows,
              title=f"backend {config.backend}", justify="llrrll")
    if not any(r[5] for r in seg_rows):
        notes.append(f"cache: backend {config.backend!r} does not report cache hits")
    for note in notes:
        out.line(f"note: {note}")
    if directory is not None:
        summary = {"net": net.name, "feeds": sorted(sig.feeds), "fetches": sig.fetches,
                   "stages": {s: {"nodes": n, "ms": float(ms)} for s, n, ms in stage_rows},
                   "passes": history,
                   "segments": [dict(zip(("name", "device", "nodes", "compile_ms", "tier", "cache"), r))
                                for r in seg_rows], "notes": notes}
        _write(directory / "summary.json", json.dumps(summary, indent=1))
        out.line(f"wrote the compile of {net.name!r} to {directory}/")
    return 0


def _cache(exe) -> str:
    """'hit', 'miss' or '' (the backend keeps no cache), as the executable reports it."""
    hit = exe.cache_hit
    return "" if hit is None else ("hit" if hit else "miss")


def add_compile(sub) -> None:
    p = command(sub, "compile", "compile a net and dump every stage (IR after each pass, partitions, ...)",
                "Compile NET for its fetches and print a summary: per-stage and per-pass time and node "
                "counts, and the backend's segments. With --dump-dir, write the IR after every pass "
                "application, every stage and partition, generated source and summary.json.",
                "netjit compile demo.json --dump-dir dump/", run_compile, backend="compile with")
    p.add_argument("--dump-dir", metavar="DIR", help="write every stage into DIR")
    add_signature_args(p)
