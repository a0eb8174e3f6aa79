"""``netjit demo``: the whole pipeline on a default net, in a few seconds."""
from __future__ import annotations

import time

import numpy as np


def build_demo_net():
    """An MLP followed by an elementwise chain: the README's main example."""
    import netjit as nj
    rng = np.random.default_rng(0)
    net = nj.Net("demo")
    x = net.Placeholder("x", np.float32, (None, 784))
    w1 = net.Const(rng.standard_normal((784, 256)).astype(np.float32) * 0.05, "w1")
    b1 = net.Const(np.zeros(256, np.float32), "b1")
    h = net.Relu(net.Add([net.MatMul([x, w1]), b1]), "h")
    w2 = net.Const(rng.standard_normal((256, 10)).astype(np.float32) * 0.05, "w2")
    logits = net.MatMul([h, w2], "logits")
    one = net.Const(1.0, "one")
    t = net.Tanh(net.Mul([logits, net.Const(0.5)]))
    g = net.Mul([net.Mul([logits, net.Const(0.5)]), net.Add([t, one])], "gelu_ish")
    net.Softmax(g, "y")
    return net


def run_demo(out=print) -> dict:
    """Build, show, compile and run the demo net; returns the timings."""
    import netjit as nj
    from netjit.compiler.pipeline import build_graph, optimize
    from netjit.runtime.program import declared_placeholders

    net = build_demo_net()
    feeds = {"x": declared_placeholders(net.ops)["x"]}
    graph, _ = build_graph(net.ops, net.name, feeds, ["y"])
    out("== IR as lowered ==")
    out(str(graph))
    optimize(graph)
    out("\n== IR after optimisation ==")
    out(str(graph))
    x = np.random.default_rng(1).standard_normal((64, 784)).astype(np.float32)
    t0 = time.perf_counter()
    program = nj.compile(net, "y", ["x"])
    y = program(x)
    first = time.perf_counter() - t0
    reps = 50
    t0 = time.perf_counter()
    for _ in range(reps):
        program(x)
    per_call = (time.perf_counter() - t0) / reps
    out(f"\nfetched y: shape {y.shape}, rows sum to {float(y.sum(axis=1).mean()):.4f}")
    out(f"first result (compile + run): {first * 1e3:.1f} ms; per call: {per_call * 1e6:.0f} us")
    return {"first_s": first, "per_call_s": per_call}
