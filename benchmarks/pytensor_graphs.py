"""The same workloads as PyTensor graphs, compiled in PyTensor's NUMBA mode.

PyTensor is not in the ``bench`` extra: its releases for Python 3.11 from 3.0
on pin numba <= 0.65.1, which pip would install over netjit's numba. The
2.x line runs beside it (``pip install "pytensor<3"``); the rows appear
whenever ``import pytensor`` works. Functions take ``trust_input=True``, its
fastest call path (no input checks), as the peers' file measured it.
"""
from __future__ import annotations

import numpy as np

from .workloads import EPS, W2_B, W2_W, W4_B, W4_G

F = np.float32


def _function(inputs, output):
    import pytensor
    f = pytensor.function(inputs, output, mode="NUMBA", trust_input=True)
    names = [i.name for i in inputs]
    return lambda **feeds: f(*(feeds[n] for n in names))


def _c(v):
    return F(v)


def w1():
    import pytensor.tensor as pt
    x = pt.vector("x", dtype="float32")
    gelu = _c(0.5) * x * (_c(1) + pt.tanh(_c(0.7978845608) * (x + _c(0.044715) * x ** 3)))
    return _function([x], gelu * _c(1.5) + pt.sigmoid(x))


def w2():
    import pytensor.tensor as pt
    from pytensor.tensor.special import softmax
    x = pt.matrix("x", dtype="float32")
    h = x
    for i, (w, b) in enumerate(zip(W2_W, W2_B)):
        h = pt.dot(h, pt.constant(w, name=f"w{i}")) + pt.constant(b, name=f"b{i}")
        if i < 2:
            h = pt.maximum(h, _c(0))
    return _function([x], softmax(h, axis=-1))


def w3():
    import pytensor.tensor as pt
    x, y = pt.vector("x", dtype="float32"), pt.vector("y_in", dtype="float32")
    return _function([x, y], x + y)


def w4():
    import pytensor.tensor as pt
    x = pt.matrix("x", dtype="float32")
    d = x - x.mean(axis=-1, keepdims=True)
    v = (d * d).mean(axis=-1, keepdims=True)
    return _function([x], d / pt.sqrt(v + _c(EPS)) * pt.constant(W4_G) + pt.constant(W4_B))


def w5():
    import pytensor.tensor as pt
    from pytensor.tensor.special import softmax
    x = pt.matrix("x", dtype="float32")
    return _function([x], softmax(x, axis=-1))


def w6(n_ops: int = 200):
    """The 200-op chain: ``n_ops / 2`` times ``tanh(h * 1.25)``."""
    import pytensor.tensor as pt
    x = pt.vector("x", dtype="float32")
    h = x
    for _ in range(n_ops // 2):
        h = pt.tanh(h * _c(1.25))
    return _function([x], h)
