"""``netjit run``: feed ``.npy`` files, print the fetched values and the step stats."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import netjit as nj
from netjit.runtime.stats import RunMetadata

from .args import add_signature_args, command, config_of
from .console import Out
from .inputs import load_net, signature

#: Arrays with more elements than this print as a summary.
FULL_PRINT_MAX = 20


def describe_value(name: str, value) -> list[str]:
    """A fetched value as a few lines: type, then the values or a summary of them."""
    arr = np.asarray(value)
    head = f"{name}: {arr.dtype}{list(arr.shape)}"
    if arr.size <= FULL_PRINT_MAX or arr.dtype == object:
        return [head, "  " + np.array2string(arr, threshold=FULL_PRINT_MAX).replace("\n", "\n  ")]
    body = np.array2string(arr, threshold=FULL_PRINT_MAX, edgeitems=2).replace("\n", "\n  ")
    lines = [head, "  " + body]
    if arr.dtype.kind in "fiu":
        finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
        stats = (f"min {finite.min():.6g}  max {finite.max():.6g}  mean {finite.mean():.6g}"
                 if finite.size else "no finite values")
        lines.append(f"  ({arr.size} values; {stats})")
    return lines


def _metadata():
    """A RunMetadata, and RunOptions asking for a full trace."""
    return RunMetadata(), nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE)


def print_step_stats(meta, out: Out) -> None:
    stats = meta.step_stats
    if not stats:
        out.line("step stats: none (the run computed nothing)")
        return
    t0 = min(s.start for s in stats)
    rows = [(s.device, s.name, s.thread, s.tier, f"{(s.start - t0) * 1e3:.3f}",
             f"{s.duration * 1e3:.3f}", s.output_bytes) for s in stats]
    out.table(["device", "segment", "thread", "tier", "start ms", "ms", "output bytes"], rows,
              title="step stats", justify="llllrrr")
    cost = meta.cost_summary
    if cost:
        out.line("cost: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                      for k, v in cost.items()))


def run_run(args, out: Out) -> int:
    net = load_net(args.net)
    sig = signature(net, args.feed, args.fetch, need_values=True)
    meta, options = _metadata()
    with nj.Session(net, config_of(args, backend=args.backend)) as sess:
        values = sess.run(sig.fetches, sig.values, options=options, run_metadata=meta)
    for name, value in zip(sig.fetches, values):
        for line in describe_value(name, value):
            out.line(line)
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            np.save(Path(args.out) / f"{name.replace('/', '_')}.npy", np.asarray(value), allow_pickle=False)
    print_step_stats(meta, out)
    if args.out:
        out.line(f"wrote {len(values)} fetched values to {args.out}/")
    if args.trace:
        meta.to_chrome_trace(args.trace)
        out.line(f"wrote a Chrome trace to {args.trace} (open it in chrome://tracing or ui.perfetto.dev)")
    return 0


def add_run(sub) -> None:
    p = command(sub, "run", "run a net on .npy feeds and print the fetched values and step stats",
                "Run NET once in a Session: feeds from .npy files, fetched values printed (summarised "
                "when large), optionally saved as .npy and traced.",
                "netjit run demo.json --feed x=x.npy --fetch y --out out/ --trace trace.json", run_run,
                backend="run on")
    p.add_argument("--out", metavar="DIR", help="save every fetched value as DIR/<blob>.npy")
    p.add_argument("--trace", metavar="FILE", help="write a Chrome trace (JSON) of the run")
    add_signature_args(p)
