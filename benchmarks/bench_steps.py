"""Per-iteration overhead of execution steps over a small net (issues 6 and 8).

Three loops of 10,000 iterations on one workspace:

* ``step``: ``execution_step(num_iter=N)`` over one small net
  (``i += 1; y = tanh(x * w + b)`` on 16 floats);
* ``stop``: the same net plus a criteria net, looping on ``should_stop_blob``
  (the stop blob is read after every net);
* ``builder``: ``with ops.loop(N):`` around the same ops (NetBuilder lowers it
  to a stop-blob step: a stop-check net and the body net per iteration).

For each, the time per iteration is compared with calling the compiled
executables of the same nets directly (the kernels' own time), and the
difference is the runtime's overhead. The compile count shows nothing was
recompiled inside the loop.

    python benchmarks/bench_steps.py [--iters 10000] [--backend reference numba]

Goal (issue 6): overhead under 20 us per iteration.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import netjit as nj
from netjit import ops


def small_net(name: str = "small") -> nj.Net:
    net = nj.Net(name)
    net.Add(["i", net.Const(np.int64(1))], "i")
    net.Tanh(net.Add([net.Mul(["x", "w"]), "b"]), "y")
    return net


def fresh_workspace(backend: str) -> nj.Workspace:
    ws = nj.Workspace(config=nj.SessionConfig(backend=backend, tiered=False))
    rng = np.random.default_rng(0)
    for blob in ("x", "w", "b"):
        ws.feed_blob(blob, rng.standard_normal(16).astype(np.float32))
    ws.feed_blob("i", np.int64(0))
    return ws


#: Each loop is timed this many times and the fastest kept: on a shared machine the
#: scheduler's time slices (4 ms ticks) otherwise dominate the mean of a short loop.
REPEATS = 5


def kernel_time(ws: nj.Workspace, nets, iters: int) -> float:
    """Seconds per iteration of calling the nets' compiled executables directly."""
    calls = []
    for net in nets:
        runner = ws.root.net_cache.runner(net)
        (compiled,) = runner.compiled.values()
        values = [ws.lookup(b) for b in runner.inputs]
        inputs = [values[i] for i in compiled.order]
        calls.append((compiled.executable, inputs))
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(iters):
            for exe, inputs in calls:
                exe(inputs, ws.variables)
        best = min(best, (time.perf_counter() - start) / iters)
    return best


def timed_run(ws: nj.Workspace, runnable, iters: int, reset) -> float:
    """Seconds per iteration of ``ws.run(runnable)`` (best of REPEATS); ``reset()`` re-arms the loop."""
    best = float("inf")
    for _ in range(REPEATS):
        reset()
        start = time.perf_counter()
        ws.run(runnable)
        best = min(best, (time.perf_counter() - start) / iters)
    return best


def bench_step(backend: str, iters: int) -> tuple:
    ws, net = fresh_workspace(backend), small_net()
    ws.run(net)                                       # compile outside the timing
    per_iter = timed_run(ws, nj.execution_step("loop", net, num_iter=iters), iters,
                         lambda: ws.feed_blob("i", np.int64(0)))
    assert ws.fetch_blob("i") == iters
    return per_iter, kernel_time(ws, [net], iters), ws.root.net_cache.compilations


def bench_stop(backend: str, iters: int) -> tuple:
    ws, net = fresh_workspace(backend), small_net("body")
    criteria = nj.Net("criteria")
    criteria.GE(["i", criteria.Const(np.int64(iters))], "stop")
    ws.feed_blob("i", np.int64(iters))
    ws.run(criteria)
    ws.run(net)                                       # compile outside the timing
    per_iter = timed_run(ws, nj.execution_step("loop", [criteria, net], should_stop_blob="stop"), iters,
                         lambda: ws.feed_blob("i", np.int64(0)))
    assert ws.fetch_blob("i") == iters
    return per_iter, kernel_time(ws, [criteria, net], iters), ws.root.net_cache.compilations


def bench_builder(backend: str, iters: int) -> tuple:
    ws = fresh_workspace(backend)
    with nj.NetBuilder() as nb:
        with ops.loop(nj.BlobReference("n")):
            ops.Add(["i", ops.Const(np.int64(1))], "i")
            ops.Tanh(ops.Add([ops.Mul(["x", "w"]), "b"]), "y")
    step = nj.to_execution_step(nb)
    ws.feed_blob("n", np.int64(1))
    ws.run(step)                                      # compile outside the timing
    ws.feed_blob("n", np.int64(iters))
    per_iter = timed_run(ws, step, iters, lambda: ws.feed_blob("i", np.int64(0)))
    assert ws.fetch_blob("i") == iters
    loop_step = step.substeps[-1]                     # its nets: the stop check and the body
    return per_iter, kernel_time(ws, loop_step.nets, iters), ws.root.net_cache.compilations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=10_000)
    parser.add_argument("--backend", nargs="+", default=None)
    args = parser.parse_args()
    backends = args.backend or _available()
    print(f"{'backend':10} {'loop':8} {'us/iter':>9} {'kernel us':>10} {'overhead us':>12} {'compiles':>9}")
    for backend in backends:
        for name, bench in (("step", bench_step), ("stop", bench_stop), ("builder", bench_builder)):
            per_iter, kernel, compiles = bench(backend, args.iters)
            print(f"{backend:10} {name:8} {per_iter * 1e6:9.2f} {kernel * 1e6:10.2f} "
                  f"{(per_iter - kernel) * 1e6:12.2f} {compiles:9d}")


def _available() -> list[str]:
    names = ["reference"]
    try:
        import netjit.backends.numba  # noqa: F401  (registers "numba")
        names.append("numba")
    except ImportError:
        pass
    return names


if __name__ == "__main__":
    main()
