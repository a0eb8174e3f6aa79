"""Random graphs the native code generator takes: elementwise ops over same-shape inputs.

Values stay in moderate ranges (Exp sees Tanh'd values, Log and Sqrt see
positive ones, divisors are >= 1), so float32 approximations and reassociation
stay within the tests' tolerances on every example.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from netjit.compiler.ir import Graph
from netjit.compiler.ops import Const, Placeholder
from netjit.compiler.ops import elementwise as E
from netjit.compiler.ops import logical as L


class _Builder:
    def __init__(self, draw, dtype):
        self.draw, self.dtype = draw, dtype
        self.g = Graph("native_random")
        self.full: list = []         # values holding one element per output element

    def add(self, op, ins):
        n = self.g.add(op, ins)
        return (n, 0)

    def const(self, value):
        return self.add(Const(np.array(value, self.dtype)), [])

    def pick(self):
        return self.draw(st.sampled_from(self.full))


def _unary(b):
    x = b.pick()
    kind = b.draw(st.sampled_from(["Tanh", "Sigmoid", "Relu", "Abs", "Neg", "Exp", "Log", "Sqrt", "Copy"]))
    if kind == "Exp":
        return b.add(E.Exp(), [b.add(E.Tanh(), [x])])
    if kind == "Log":
        return b.add(E.Log(), [b.add(E.Add(), [b.add(E.Sigmoid(), [x]), b.const(0.5)])])
    if kind == "Sqrt":
        return b.add(E.Sqrt(), [b.add(E.Abs(), [x])])
    return b.add(getattr(E, kind)(), [x])


def _binary(b):
    x = b.pick()
    y = b.pick() if b.draw(st.booleans()) else b.const(b.draw(st.sampled_from([0.5, -1.25, 2.0, 3.0])))
    kind = b.draw(st.sampled_from(["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"]))
    if kind == "Div":
        return b.add(E.Div(), [x, b.add(E.Add(), [b.add(E.Abs(), [y]), b.const(1.0)])])
    if kind == "Pow":
        base = b.add(E.Add(), [b.add(E.Abs(), [x]), b.const(0.5)])
        k = b.draw(st.sampled_from([2.0, 3.0, 0.5, 1.7]))
        return b.add(E.Pow(), [base, b.const(k)])
    return b.add(getattr(E, kind)(), [x, y])


def _select(b):
    x, y = b.pick(), b.pick()
    cond = b.add(b.draw(st.sampled_from([E.LT, E.LE, E.GT, E.GE, E.EQ]))(), [x, y])
    if b.draw(st.booleans()):
        other = b.add(E.GT(), [x, b.const(0.0)])
        cond = b.add(b.draw(st.sampled_from([L.And, L.Or]))(), [cond, other])
    if b.draw(st.booleans()):
        cond = b.add(L.Not(), [cond])
    return b.add(E.Where(), [cond, x, y])


def _nary(b):
    xs = [b.pick() for _ in range(b.draw(st.integers(1, 3)))]
    return b.add(b.draw(st.sampled_from([E.Sum, E.Max, E.Min]))(), xs)


def _cast(b):
    x = b.pick()
    other = np.float64 if b.dtype == np.float32 else np.float32
    there = b.add(E.Cast(np.dtype(other)), [x])
    if b.draw(st.booleans()):     # bool and back: x != 0 as 0.0 / 1.0
        return b.add(E.Cast(np.dtype(b.dtype)), [b.add(E.Cast(np.dtype(np.bool_)), [there])])
    return b.add(E.Mul(), [b.add(E.Cast(np.dtype(b.dtype)), [there]), x])


_STEPS = (_unary, _unary, _binary, _binary, _select, _nary, _cast)


@st.composite
def elementwise_graph(draw, max_steps: int = 10):
    """``(graph, feeds)``: 1-3 full inputs (some dims dynamic), maybe one single-element
    input, 1-``max_steps`` random steps, 1-2 outputs that depend on every full input."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # no dims of 1: an input declared (None, 1) beside (None, None) is one the planner
    # leaves to numba, as it probably broadcasts
    shape = tuple(draw(st.lists(st.integers(2, 21), min_size=1, max_size=3)))
    b = _Builder(draw, dtype)
    feeds = []
    for i in range(draw(st.integers(1, 3))):
        declared = tuple(None if draw(st.booleans()) else d for d in shape)
        n = b.g.add(Placeholder(np.dtype(dtype), declared), names=[f"in{i}"])
        b.g.inputs.append(n)
        b.full.append((n, 0))
        feeds.append(rng.uniform(-2, 2, shape).astype(dtype))
    # every value below depends on every full input, as the planner requires of
    # outputs with dynamic shapes (an output of in0 alone could differ in shape)
    inputs, b.full = b.full, [b.add(E.Sum(), b.full)]
    if draw(st.booleans()):
        n = b.g.add(Placeholder(np.dtype(dtype), ()), names=["scale"])
        b.g.inputs.append(n)
        feeds.append(np.array(rng.uniform(-2, 2), dtype))
        b.full.append(b.add(E.Mul(), [b.full[0], (n, 0)]))
    if len(inputs) == 1:
        b.full.append(inputs[0])
    for _ in range(draw(st.integers(1, max_steps))):
        b.full.append(draw(st.sampled_from(_STEPS))(b))
    k = draw(st.integers(1, 2))
    b.g.outputs = [b.full[-1]] + draw(st.lists(st.sampled_from(b.full), min_size=k - 1, max_size=k - 1))
    return b.g, feeds
