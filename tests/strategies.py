"""Hypothesis strategies shared by the test suite (IR, passes, backends).

``random_graph`` builds well-typed IR graphs directly with ``Graph.add``: it is
the generator behind "printing round-trips", "optimised equals unoptimised"
and "the numba backend equals the reference" properties.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from hypothesis import strategies as st

from netjit.compiler import ops as O
from netjit.compiler.ir import Graph
from netjit.compiler.ops import ConstValue, TensorType

UNARY = (O.Neg, O.Abs, O.Relu, O.Tanh, O.Sigmoid, O.Copy)
BINARY = (O.Add, O.Sub, O.Mul, O.Max, O.Min)
REDUCE = (O.ReduceSum, O.ReduceMean, O.ReduceMax, O.ReduceMin)
COMPARE = (O.LT, O.GT, O.EQ)
#: Node names: temporaries (None), plain, reused (SSA rewrites print ``~N``), and
#: names the printer must quote.
NAMES = (None, None, None, "t", "u", "a/b.c", "x0", "has space", "7", 'q"uote')


class _Builder:
    """The graph under construction, with each value's concrete (static) type."""

    def __init__(self, draw, name, dtypes, devices):
        self.draw, self.dtypes, self.devices = draw, dtypes, devices
        self.g = Graph(name)
        self.concrete: dict = {}  # value -> fully static TensorType of the real data
        self.pool: list = []      # values later ops may read

    def add(self, op, inputs, concrete_in=None):
        concrete_in = concrete_in or [self.concrete[v] for v in inputs]
        out_types = op.infer(*concrete_in)
        names = [self.draw(st.sampled_from(NAMES)) for _ in out_types]
        device = self.draw(st.sampled_from((None,) + tuple(self.devices))) if self.devices else None
        n = self.g.add(op, inputs, names=names, device=device)
        for i, t in enumerate(out_types):
            self.concrete[(n, i)] = t
            if t.dtype in O.FLOAT_DTYPES:
                self.pool.append((n, i))
        return n

    def pick(self, pred=lambda t: True):
        cands = [v for v in self.pool if pred(self.concrete[v])]
        return self.draw(st.sampled_from(cands)) if cands else None


def _broadcasts(*shapes) -> bool:
    try:
        np.broadcast_shapes(*shapes)
        return True
    except ValueError:
        return False


def _declared(draw, shape):
    """A placeholder's declared shape: some dims dynamic (None)."""
    return tuple(d if draw(st.booleans()) else None for d in shape)


def _const(b: _Builder, rng, shape):
    dtype = b.draw(st.sampled_from(b.dtypes))
    arr = rng.uniform(-2, 2, shape).astype(dtype)
    return b.add(O.Const(ConstValue(arr)), [])


def _step_elementwise(b, rng):
    kind = b.draw(st.sampled_from(("unary", "binary", "binary", "where", "const")))
    a = b.pick()
    if kind == "unary":
        return b.add(b.draw(st.sampled_from(UNARY))(), [a])
    shape_a = b.concrete[a].shape
    other = b.pick(lambda t: _broadcasts(t.shape, shape_a))
    if kind == "const" or other is None:
        sub = shape_a[b.draw(st.integers(0, len(shape_a))):]  # a broadcastable suffix
        other = (_const(b, rng, sub), 0)
    if kind == "where":
        cond = b.add(b.draw(st.sampled_from(COMPARE))(), [a, other])
        return b.add(O.Where(), [(cond, 0), a, other])
    op = b.draw(st.sampled_from(BINARY))()
    return b.add(op, [a, other] if b.draw(st.booleans()) else [other, a])


def _step_reduce(b, rng):
    a = b.pick(lambda t: len(t.shape) >= 1)
    if a is None:
        return _step_elementwise(b, rng)
    rank = len(b.concrete[a].shape)
    axes = b.draw(st.one_of(st.none(), st.lists(st.integers(-rank, rank - 1), min_size=1,
                                                max_size=rank, unique_by=lambda x: x % rank)))
    if b.draw(st.booleans()) and rank >= 1:
        return b.add(O.Softmax(axis=b.draw(st.integers(-rank, rank - 1))), [a])
    op = b.draw(st.sampled_from(REDUCE))(axes=None if axes is None else tuple(axes),
                                         keepdims=b.draw(st.booleans()))
    return b.add(op, [a])


def _step_matmul(b, rng):
    a = b.pick(lambda t: len(t.shape) == 2)
    if a is None:
        return _step_elementwise(b, rng)
    k = b.concrete[a].shape[1]
    w = b.pick(lambda t: len(t.shape) == 2 and t.shape[0] == k)
    if w is None or b.draw(st.booleans()):
        w = (_const(b, rng, (k, b.draw(st.integers(1, 3)))), 0)
    return b.add(O.MatMul(), [a, w])


def _step_shape(b, rng):
    a = b.pick(lambda t: len(t.shape) >= 1)
    if a is None:
        return _step_elementwise(b, rng)
    shape = b.concrete[a].shape
    choice = b.draw(st.sampled_from(("transpose", "reshape", "concat", "split")))
    if choice == "transpose":
        return b.add(O.Transpose(tuple(b.draw(st.permutations(range(len(shape)))))), [a])
    if choice == "reshape":
        return b.add(O.Reshape(b.draw(st.sampled_from(((-1,), (0, -1), (1, -1))))), [a])
    if choice == "concat":
        axis = b.draw(st.integers(0, len(shape) - 1))
        return b.add(O.Concat(axis=axis), [a, a])
    axis = b.draw(st.integers(0, len(shape) - 1))
    if shape[axis] % 2:
        return b.add(O.Split(axis=axis, split=(1, shape[axis] - 1)) if shape[axis] > 1
                     else O.Copy(), [a])
    return b.add(O.Split(axis=axis, num=2), [a])


_STEPS = (_step_elementwise, _step_elementwise, _step_elementwise, _step_reduce,
          _step_matmul, _step_shape)


def _add_inputs(b, rng, n_inputs, base) -> list[np.ndarray]:
    feeds = []
    for i in range(n_inputs):
        shape = base[b.draw(st.integers(0, len(base))):]
        dtype = np.dtype(b.draw(st.sampled_from(b.dtypes)))
        declared = _declared(b.draw, shape)
        n = b.g.add(O.Placeholder(dtype, declared), names=[f"in{i}"])
        b.g.inputs.append(n)
        b.concrete[(n, 0)] = TensorType(dtype, shape)
        b.pool.append((n, 0))
        feeds.append(rng.uniform(-2, 2, shape).astype(dtype))
    return feeds


@st.composite
def random_graph(draw, max_nodes: int = 10, max_inputs: int = 3,
                 dtypes: Sequence = (np.float32, np.float64),
                 devices: Sequence[str] = (), name: Optional[str] = None):
    """A random, well-typed Graph and concrete feeds for its inputs.

    Parameters
    ----------
    draw : supplied by hypothesis (``random_graph(...)`` is a strategy).
    max_nodes : at most this many computing steps (a step may add a constant
        or a comparison too).
    max_inputs : 1..max_inputs Placeholders, some dims declared dynamic (None).
    dtypes : float dtypes for inputs and constants (mixing them exercises promotion).
    devices : device names nodes are randomly placed on (empty: unplaced).
    name : the graph name (default ``"random"``).

    Returns
    -------
    (graph, feeds) : ``graph.inputs`` are the Placeholder nodes (blob names
    ``in0``, ``in1``...), ``feeds`` a list of float arrays in that order (values
    in [-2, 2)), ``graph.outputs`` 1-3 float values (some nodes may be dead).
    Ops: elementwise (unary, binary with broadcasting, Where of a comparison),
    reductions and Softmax, MatMul, Transpose/Reshape/Concat/Split, constants,
    and shared subexpressions (values are reused and sometimes recomputed).
    ``graph.verify()`` holds.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    b = _Builder(draw, name or "random", tuple(np.dtype(d) for d in dtypes), devices)
    base = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    feeds = _add_inputs(b, rng, draw(st.integers(1, max_inputs)), base)
    for _ in range(draw(st.integers(1, max_nodes))):
        if draw(st.integers(0, 5)) == 0:  # a shared subexpression: recompute one node
            n = draw(st.sampled_from(sorted({v[0] for v in b.pool})))
            if b.g.op(n).arity != 0:
                b.add(b.g.op(n), b.g.inputs_of(n))
                continue
        draw(st.sampled_from(_STEPS))(b, rng)
    computed = [v for v in b.pool if v[0] not in b.g.inputs] or b.pool
    k = draw(st.integers(1, min(3, len(computed))))
    b.g.outputs = draw(st.lists(st.sampled_from(computed), min_size=k, max_size=k))
    return b.g, feeds
