"""Run W1-W6 against NumPy, hand @njit kernels, ONNX Runtime and PyTensor; print a markdown table.

    pip install -e ".[bench]" && python -m benchmarks.run [--quick] [--out FILE]

Times are medians of repeated calls in this one process (min and max too):
W1, W2, W4 and W5 time each implementation for a stretch in turn, W3's
single-threaded calls alternate round by round;
"x NumPy" is NumPy's median over the row's median (higher is better), "/ hand"
the row's median over the hand kernel's (lower is better). Peak memory is the
largest resident-set growth seen over three calls. W6 runs in fresh
subprocesses with temporary netjit and numba cache directories.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import netjit as nj

from . import hand_kernels as hand
from . import workloads as W


class PeakRSS:
    """Samples /proc/self/statm in a thread; ``peak_mb`` is the growth over the start."""

    def __enter__(self):
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.base = self.peak = self._rss()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _rss(self):
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self.page

    def _run(self):
        while not self.stop:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.0005)

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def peak_mb(self):
        return (self.peak - self.base) / 2**20


def _peaks(impls: dict) -> dict:
    """Resident-set growth over three calls of each implementation (after two warm-up calls)."""
    peaks = {}
    for name, fn in impls.items():
        fn()
        fn()
        with PeakRSS() as mem:
            for _ in range(3):
                fn()
        peaks[name] = mem.peak_mb
    return peaks


#: seconds between two implementations' blocks, and of untimed calls before each
PAUSE, WARM_UP = 0.3, 0.2


def measure_blocks(impls: dict, min_time: float, max_calls: int = 200) -> dict:
    """``{name: (times, peak_mb)}``: each implementation timed for ``min_time`` in turn.

    For the workloads with thread pools: after a call, OpenBLAS's and ONNX
    Runtime's workers spin for a while, so alternating implementations call
    by call would time the pools fighting over the two cores. Each block
    starts with a pause, so the previous implementation's workers are asleep
    (OpenBLAS's spin for up to about 0.1 s: timed in their wake, W2's next
    implementation ran 1.8 times slower), then ``WARM_UP`` seconds of
    untimed calls, so every implementation is timed on warm caches and a
    clocked-up core.
    """
    peaks = _peaks(impls)
    out = {}
    for name, fn in impls.items():
        time.sleep(PAUSE)
        start = time.perf_counter()
        while time.perf_counter() - start < WARM_UP:
            fn()
        times: list = []
        start = time.perf_counter()
        while len(times) < max_calls and (time.perf_counter() - start < min_time or len(times) < 5):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out[name] = (times, peaks[name])
    return out


def measure_interleaved(impls: dict, min_time: float, max_rounds: int = 2000, inner: int = 200) -> dict:
    """``{name: (times, peak_mb)}`` for single-threaded calls, timed in turn round after round.

    This machine's noise comes in bursts; timed one after the other, a burst
    could land on one implementation's stretch and skew its ratios.
    Interleaved rounds spread it over all of them alike. A round times
    ``inner`` calls of each implementation; rounds go on for ``min_time`` per
    implementation (at least 5, at most ``max_rounds``).
    """
    peaks = _peaks(impls)
    times: dict = {name: [] for name in impls}
    start, rounds = time.perf_counter(), 0
    while rounds < max_rounds and (time.perf_counter() - start < min_time * len(impls) or rounds < 5):
        for name, fn in impls.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            times[name].append((time.perf_counter() - t0) / inner)
        rounds += 1
    return {name: (times[name], peaks[name]) for name in impls}


def _onnx(name):
    try:
        from . import onnx_graphs
        return getattr(onnx_graphs, name)()
    except ImportError:
        return None


def has_pytensor() -> bool:
    """Whether PyTensor is installed (see ``pytensor_graphs`` for which release)."""
    try:
        import pytensor  # noqa: F401
        return True
    except ImportError:
        return False


def _pytensor(name):
    """PyTensor's NUMBA-mode function for workload ``name``, or None where it is not installed."""
    if not has_pytensor():
        return None
    from . import pytensor_graphs
    return getattr(pytensor_graphs, name)()


def _program(builder, *values):
    """``(program, row label)``: the compiled program (untiered: the rows measure the
    compiled code, W6 measures tiering) and "netjit (tier)", the code generator
    that compiled its segments (numba, or the native one for elementwise-only
    ones), read from a run on the feed ``values``."""
    net, y, feeds = builder()
    prog = nj.compile(net, y, feeds=feeds, backend="numba", tiered=False)
    md = nj.RunMetadata()
    prog.session.run(y, dict(zip(feeds, values)), run_metadata=md,
                     options=nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE))
    return prog, f"netjit ({', '.join(sorted({st.tier for st in md.step_stats}))})"


def _check(a, b, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def bench_w1_w4_w5(rows, min_time):
    x1 = W.w1_inputs()["x"]
    x45 = W.w45_inputs()["x"]
    out1, out45 = np.empty_like(x1), np.empty_like(x45)
    cases = {
        "W1 elementwise chain [ms]": (x1, W.w1_numpy, W.w1_net, lambda: hand.w1(x1, out1), "w1"),
        "W4 layer norm [ms]": (x45, W.w4_numpy, W.w4_net, lambda: hand.w4(x45, out45), "w4"),
        "W5 softmax [ms]": (x45, W.w5_numpy, W.w5_net, lambda: hand.w5(x45, out45), "w5"),
    }
    for name, (x, np_fn, builder, hand_fn, onnx_name) in cases.items():
        prog, label = _program(builder, x)
        expect = np_fn(x)
        _check(prog(x), expect)
        impls = {"NumPy": lambda: np_fn(x), "hand @njit (prange)": hand_fn, label: lambda: prog(x)}
        sess = _onnx(onnx_name)
        if sess is not None:
            _check(sess(x=x), expect)
            impls["ONNX Runtime"] = lambda: sess(x=x)
        pt_fn = _pytensor(onnx_name)
        if pt_fn is not None:
            _check(pt_fn(x=x), expect)
            impls["PyTensor (numba)"] = lambda: pt_fn(x=x)
        rows.append((name, 1e3, measure_blocks(impls, min_time)))


def bench_w2(rows, min_time):
    x = W.w2_inputs()["x"]
    prog, label = _program(W.w2_net, x)
    _check(prog(x), W.w2_numpy(x))
    impls = {"NumPy": lambda: W.w2_numpy(x), "hand @njit (prange)": lambda: hand.w2(x),
             label: lambda: prog(x)}
    sess = _onnx("w2")
    if sess is not None:
        impls["ONNX Runtime"] = lambda: sess(x=x)
    pt_fn = _pytensor("w2")
    if pt_fn is not None:
        _check(pt_fn(x=x), W.w2_numpy(x))
        impls["PyTensor (numba)"] = lambda: pt_fn(x=x)
    rows.append(("W2 MLP [ms]", 1e3, measure_blocks(impls, min_time)))


def bench_w3(rows, min_time):
    d = W.w3_inputs()
    x, y = d["x"], d["y"]
    net, z, feeds = W.w3_net()
    prog = nj.compile(net, z, feeds=feeds, backend="numba", tiered=False)
    sess = nj.Session(net, nj.SessionConfig(backend="numba", tiered=False))
    call = sess.make_callable(z, feeds)
    feed = {"x": x, "y": y}
    _check(prog(x, y), x + y)
    _check(sess.run(z, feed), x + y)
    impls = {"NumPy": lambda: x + y, "hand @njit (prange)": lambda: hand.w3(x, y),
             "netjit Program call": lambda: prog(x, y), "netjit make_callable": lambda: call(x, y),
             "netjit Session.run": lambda: sess.run(z, feed)}
    ort = _onnx("w3")
    if ort is not None:
        impls["ONNX Runtime"] = lambda: ort(x=x, y_in=y)
    pt_fn = _pytensor("w3")
    if pt_fn is not None:
        _check(pt_fn(x=x, y_in=y), x + y)
        impls["PyTensor (numba)"] = lambda: pt_fn(x=x, y_in=y)
    rows.append(("W3 x+y (4,) per call [us]", 1e6,
                 measure_interleaved(impls, min_time)))


def _w6_run(mode, cache_dir):
    # numba's cache too: netjit's math helpers keep theirs beside the package,
    # and a cold run must compile them as a first process does
    env = dict(os.environ, NETJIT_CACHE_DIR=cache_dir, NUMBA_CACHE_DIR=os.path.join(cache_dir, "numba"),
               PYTENSOR_FLAGS=f"compiledir={os.path.join(cache_dir, 'pytensor')}")
    res = subprocess.run([sys.executable, "-m", "benchmarks.w6_latency", mode], env=env, cwd=_ROOT,
                         capture_output=True, text=True, timeout=600)
    if res.returncode:
        raise RuntimeError(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bench_w6(lines, repeats=2):
    results = {}
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            results.setdefault("numba, cold cache", []).append(_w6_run("numba", d))
            results.setdefault("numba, warm cache (fresh process)", []).append(_w6_run("numba", d))
        with tempfile.TemporaryDirectory() as d:
            results.setdefault("tiered (first result from reference)", []).append(_w6_run("tiered", d))
        results.setdefault("reference backend", []).append(_w6_run("reference", tempfile.gettempdir()))
        if has_pytensor():
            with tempfile.TemporaryDirectory() as d:
                results.setdefault("PyTensor (numba), cold cache", []).append(_w6_run("pytensor", d))
                results.setdefault("PyTensor (numba), warm cache (fresh process)", []).append(
                    _w6_run("pytensor", d))
    lines += ["", "| W6 200-op chain, fresh process | first result [ms] (runs) | fully compiled [ms] | "
              "import netjit (PyTensor's rows: pytensor) [ms] |", "|---|---|---|---|"]
    for k, runs in results.items():
        first = " / ".join(f"{r['first_s'] * 1e3:.0f}" for r in runs)
        full = " / ".join(f"{r['full_s'] * 1e3:.0f}" for r in runs)
        imp = " / ".join(f"{r['import_s'] * 1e3:.0f}" for r in runs)
        lines.append(f"| {k} | {first} | {full} | {imp} |")


def table(rows) -> list:
    lines = ["| workload | implementation | median | min | max | x NumPy | / hand | peak MB |",
             "|---|---|---|---|---|---|---|---|"]
    for name, scale, impls in rows:
        np_med = statistics.median(impls["NumPy"][0])
        hand_med = statistics.median(impls["hand @njit (prange)"][0])
        for impl, (times, peak) in impls.items():
            med = statistics.median(times)
            lines.append(f"| {name} | {impl} | {med * scale:.3g} | {min(times) * scale:.3g} | "
                         f"{max(times) * scale:.3g} | {np_med / med:.2f} | {med / hand_med:.2f} | {peak:.0f} |")
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter timing windows, one W6 repeat")
    ap.add_argument("--out", help="also write the table to this file")
    ap.add_argument("--skip-w6", action="store_true")
    args = ap.parse_args(argv)
    min_time = 0.5 if args.quick else 2.0
    rows = []
    bench_w1_w4_w5(rows, min_time)
    bench_w2(rows, min_time)
    bench_w3(rows, min_time)
    lines = table(rows)
    if not args.skip_w6:
        bench_w6(lines, repeats=1 if args.quick else 2)
    import numba
    lines.append("")
    lines.append(f"numpy {np.__version__}, numba {numba.__version__} (threading layer "
                 f"{numba.threading_layer()}), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
