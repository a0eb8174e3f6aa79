"""``random_graph`` plus bait for the rewrites: identities, double negations,
transpose and reshape pairs, same-dtype casts, integer x*0 and constant chains,
so that every built-in pass has something to do on most examples."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from netjit.compiler import ops as O
from netjit.compiler.ops import ConstValue
from strategies import random_graph


def _const(g, value, dtype):
    return (g.add(O.Const(ConstValue(np.array(value, dtype=dtype)))), 0)


def _bait(draw, g, v):
    t = g.type(v)
    kind = draw(st.sampled_from(("identity", "negneg", "transpose", "reshape", "cast",
                                 "intzero", "constchain")))
    if kind == "identity":
        op, c = draw(st.sampled_from(((O.Add, 0), (O.Mul, 1), (O.Sub, 0), (O.Div, 1))))
        args = [v, _const(g, c, t.dtype)]
        return g.add(op(), args[::-1] if op.commutative and draw(st.booleans()) else args)
    if kind == "negneg":
        return g.add(O.Neg(), [(g.add(O.Neg(), [v]), 0)])
    if kind == "transpose" and t.rank and t.rank >= 2:
        p = tuple(draw(st.permutations(range(t.rank))))
        q = tuple(draw(st.permutations(range(t.rank))))
        return g.add(O.Transpose(q), [(g.add(O.Transpose(p), [v]), 0)])
    if kind == "reshape" and t.is_static:
        flat = g.add(O.Reshape((-1,)), [v])
        return g.add(O.Reshape(t.shape), [(flat, 0)])
    if kind == "intzero":
        i = g.add(O.Cast(np.int64), [v])
        z = g.add(O.Mul(), [(i, 0), _const(g, 0, np.int64)])
        return g.add(O.Add(), [v, (g.add(O.Cast(t.dtype), [(z, 0)]), 0)])
    if kind == "constchain":
        a = g.add(O.Exp(), [_const(g, draw(st.floats(-1, 1, width=32)), t.dtype)])
        return g.add(O.Mul(), [v, (g.add(O.Add(), [(a, 0), _const(g, 0.5, t.dtype)]), 0)])
    return g.add(O.Cast(t.dtype), [v])


@st.composite
def baited_graph(draw, max_nodes: int = 8, max_bait: int = 4):
    """(graph, feeds): a random graph (unplaced or over two devices) whose extra
    outputs are rewrite bait."""
    devices = draw(st.sampled_from(((), ("cpu:0", "cpu:1"))))
    g, feeds = draw(random_graph(max_nodes=max_nodes, devices=devices))
    values = [(n, k) for n in g.nodes() for k, t in enumerate(g.types(n))
              if t.dtype in O.FLOAT_DTYPES]
    for _ in range(draw(st.integers(0, max_bait))):
        v = draw(st.sampled_from(values))
        g.outputs.append((_bait(draw, g, v), 0))
    g.verify()
    return g, feeds
