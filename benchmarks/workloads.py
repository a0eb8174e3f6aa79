"""Workloads W1-W6 of the numba-backend issue, each defined once.

Every workload gives: inputs, a NumPy eager function, a netjit net (built with
the public frontend), a hand-written @njit kernel (the ceiling for codegen)
and, when onnx is installed, an ONNX graph built with ``onnx.helper``.
"""
from __future__ import annotations

import numpy as np

import netjit as nj

F = np.float32
RNG = np.random.default_rng(0)


# -- W1: elementwise chain ------------------------------------------------------
def w1_inputs():
    return {"x": RNG.standard_normal(1 << 22).astype(F)}


def w1_numpy(x):
    return F(0.5) * x * (F(1) + np.tanh(F(0.7978845608) * (x + F(0.044715) * x ** 3))) * F(1.5) \
        + F(1) / (F(1) + np.exp(-x))


def w1_net():
    net = nj.Net("w1")
    x = net.Placeholder("x", np.float32, (None,))
    c = {v: net.Const(v) for v in (0.5, 1.0, 0.7978845608, 0.044715, 3.0, 1.5)}
    inner = net.Add([x, net.Mul([c[0.044715], net.Pow([x, c[3.0]])])])
    t = net.Tanh(net.Mul([c[0.7978845608], inner]))
    gelu = net.Mul([net.Mul([c[0.5], x]), net.Add([c[1.0], t])])
    y = net.Add([net.Mul([gelu, c[1.5]]), net.Sigmoid(x)], "y")
    return net, y, ["x"]


# -- W2: MLP ----------------------------------------------------------------------
W2_W = [(RNG.standard_normal((784, 1024)) * 0.03).astype(F), (RNG.standard_normal((1024, 1024)) * 0.03).astype(F),
        (RNG.standard_normal((1024, 10)) * 0.03).astype(F)]
W2_B = [(RNG.standard_normal(n) * 0.1).astype(F) for n in (1024, 1024, 10)]


def w2_inputs():
    return {"x": RNG.standard_normal((64, 784)).astype(F)}


def w2_numpy(x):
    h = np.maximum(x @ W2_W[0] + W2_B[0], 0)
    h = np.maximum(h @ W2_W[1] + W2_B[1], 0)
    z = h @ W2_W[2] + W2_B[2]
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def w2_net():
    net = nj.Net("w2")
    h = net.Placeholder("x", np.float32, (None, 784))
    for i, (w, b) in enumerate(zip(W2_W, W2_B)):
        h = net.Add([net.MatMul([h, net.Const(w, f"w{i}")]), net.Const(b, f"b{i}")])
        if i < 2:
            h = net.Relu(h)
    return net, net.Softmax(h, "y"), ["x"]


# -- W3: per-call overhead ---------------------------------------------------------
def w3_inputs():
    return {"x": np.arange(4, dtype=F), "y": np.ones(4, F)}


def w3_numpy(x, y):
    return x + y


def w3_net():
    net = nj.Net("w3")
    x = net.Placeholder("x", np.float32, (4,))
    y = net.Placeholder("y", np.float32, (4,))
    return net, net.Add([x, y], "z"), ["x", "y"]


# -- W4: layer norm ----------------------------------------------------------------
W4_G = RNG.standard_normal(1024).astype(F)
W4_B = RNG.standard_normal(1024).astype(F)
EPS = 1e-5


def w45_inputs():
    return {"x": RNG.standard_normal((8192, 1024)).astype(F)}


def w4_numpy(x):
    m = x.mean(-1, keepdims=True)
    d = x - m
    v = (d * d).mean(-1, keepdims=True)
    return d / np.sqrt(v + F(EPS)) * W4_G + W4_B


def w4_net():
    net = nj.Net("w4")
    x = net.Placeholder("x", np.float32, (None, 1024))
    d = net.Sub([x, net.ReduceMean(x, axes=(-1,))])
    v = net.ReduceMean(net.Mul([d, d]), axes=(-1,))
    s = net.Sqrt(net.Add([v, net.Const(EPS)]))
    y = net.Add([net.Mul([net.Div([d, s]), net.Const(W4_G, "gamma")]), net.Const(W4_B, "beta")], "y")
    return net, y, ["x"]


# -- W5: softmax ---------------------------------------------------------------------
def w5_numpy(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def w5_net():
    net = nj.Net("w5")
    x = net.Placeholder("x", np.float32, (None, 1024))
    return net, net.Softmax(x, "y"), ["x"]


# -- W6: 200-op chain (compile latency) ----------------------------------------------
def w6_net(n_ops: int = 200):
    net = nj.Net("w6")
    h = x = net.Placeholder("x", np.float32, (None,))
    a = net.Const(1.25)
    for i in range(n_ops // 2):
        h = net.Tanh(net.Mul([h, a]))
    return net, h, ["x"]


def w6_numpy(x, n_ops: int = 200):
    for _ in range(n_ops // 2):
        x = np.tanh(x * F(1.25))
    return x
