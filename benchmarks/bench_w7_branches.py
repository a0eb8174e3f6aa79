"""W7: two independent branches on two devices vs one device.

Each branch is three chained float32 (1024x1024)@(1024x1024) matmuls with
tanh between; the two branch outputs are summed. BLAS is limited to one
thread (set before NumPy is imported), so any speed-up comes from the
session running the two branches' segments concurrently on cpu:0 and cpu:1.

    python benchmarks/bench_w7_branches.py [--runs 15] [--backend numba] [--trace w7.json]

Bar (issue 5): two devices >= 1.9x faster than one, and <= 75 ms (median).
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import netjit as nj  # noqa: E402
from netjit.runtime.stats import RunMetadata  # noqa: E402

N = 1024


def build(devices: tuple) -> nj.Net:
    """The W7 net; ``devices`` gives each branch's device (None: unplaced)."""
    rng = np.random.default_rng(0)
    net = nj.Net("w7")
    x = net.Placeholder("x", np.float32, (N, N))
    outs = []
    for b, dev in enumerate(devices):
        with nj.device(dev):
            h = x
            for k in range(3):
                w = net.Const((rng.standard_normal((N, N)) / np.sqrt(N)).astype(np.float32), f"w{b}{k}")
                h = net.MatMul([h, w], f"mm{b}{k}")
                if k < 2:
                    h = net.Tanh(h, f"t{b}{k}")
            outs.append(h)
    with nj.device(devices[0]):
        net.Add(outs, "y")
    return net


def numpy_branch(x: np.ndarray, weights: dict, b: int) -> np.ndarray:
    h = x
    for k in range(3):
        h = h @ weights[f"w{b}{k}"]
        if k < 2:
            h = np.tanh(h)
    return h


def numpy_w7(x: np.ndarray, weights: dict) -> np.ndarray:
    return numpy_branch(x, weights, 0) + numpy_branch(x, weights, 1)


def numpy_w7_threads(x: np.ndarray, weights: dict) -> np.ndarray:
    """Control: the two NumPy branches on two plain threads (what the machine allows)."""
    out = [None, None]

    def run(b):
        out[b] = numpy_branch(x, weights, b)
    threads = [threading.Thread(target=run, args=(b,)) for b in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out[0] + out[1]


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def overlap(md: RunMetadata) -> tuple[float, float]:
    """(time both devices were busy at once, wall time) in ms, from the step stats."""
    spans = {d: [(s.start, s.start + s.duration) for s in md.step_stats if s.device == d] for d in md.devices()}
    if len(spans) < 2:
        return 0.0, md.run_duration * 1e3
    a, b = spans["cpu:0"], spans["cpu:1"]
    both = sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)
    return both * 1e3, md.run_duration * 1e3


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--backend", default=None, help="default: the SessionConfig default")
    ap.add_argument("--trace", default=os.path.join(tempfile.gettempdir(), "w7_trace.json"),
                    help="Chrome trace of one two-device run (default: in the temp directory)")
    args = ap.parse_args(argv)
    extra = {"backend": args.backend} if args.backend else {}
    extra["tiered"] = False     # measure the compiled code from the first timed run
    xv = np.random.default_rng(1).standard_normal((N, N)).astype(np.float32)
    two = nj.Session(build(("cpu:0", "cpu:1")), nj.SessionConfig(device_count={"cpu": 2}, **extra))
    one = nj.Session(build((None, None)), nj.SessionConfig(device_count={"cpu": 1}, **extra))
    f2, f1 = two.make_callable("y", ["x"]), one.make_callable("y", ["x"])
    weights = {d.outputs[0]: d.op.value.array for d in build((None, None)).ops if d.type == "Const"}
    want = numpy_w7(xv, weights)
    np.testing.assert_allclose(f2(xv), want, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(f1(xv), want, rtol=1e-3, atol=1e-3)
    t_np = median_ms(lambda: numpy_w7(xv, weights), args.runs)
    t_np2 = median_ms(lambda: numpy_w7_threads(xv, weights), args.runs)
    t1 = median_ms(lambda: f1(xv), args.runs)
    t2 = median_ms(lambda: f2(xv), args.runs)
    md = RunMetadata()
    two.run("y", {"x": xv}, options=nj.RunOptions(trace_level=nj.RunOptions.FULL_TRACE), run_metadata=md)
    md.to_chrome_trace(args.trace)
    both, wall = overlap(md)
    print(f"backend: {two.config.backend}; BLAS threads: {os.environ['OPENBLAS_NUM_THREADS']}; runs: {args.runs}")
    print(f"numpy eager         {t_np:8.1f} ms")
    print(f"numpy, 2 threads    {t_np2:8.1f} ms   (control: {t_np / t_np2:.2f}x is what two free cores give)")
    print(f"netjit one device   {t1:8.1f} ms")
    print(f"netjit two devices  {t2:8.1f} ms   speed-up {t1 / t2:.2f}x (bar >= 1.9x, <= 75 ms)")
    print(f"trace {args.trace}: {len(md.step_stats)} segments, both devices busy {both:.1f} of {wall:.1f} ms "
          f"({100 * both / wall:.0f}% overlap)")
    for s in md.step_stats:
        print(f"  {s.name:22s} {s.device}  {s.thread:22s} +{(s.start - md.run_start) * 1e3:6.1f} ms "
              f"{s.duration * 1e3:6.1f} ms  {s.tier}")
    two.close()
    one.close()


if __name__ == "__main__":
    main()
