"""simplify: algebraic simplification, a table of small exact rewrites.

Each rule's docstring is its rewrite. A rule fires only when the result has
exactly the node's type (so no broadcast or dtype promotion is lost), and
only where it is exact for the dtype: ``x*0 -> 0`` holds for integers but not
for floats (NaN*0 and Inf*0 are NaN, -1*0 is -0), so for floats it needs the
``fast_math`` option. ``x+0 -> x`` is applied for floats as XLA and LLVM's
instcombine on ``-0.0`` do: it can only turn a ``+0.0`` result into ``-0.0``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from netjit.compiler.ops import (FLOAT_DTYPES, Cast, InferError, Mul, Neg, Reshape, TensorType,
                                 Transpose)

from .phase import Phase
from .registry import register_pass
from .rewrite import MAX_CONST_ELEMENTS, add_const, const_array, is_effectful, sweep, topo_order


def _all_equal(arr: Optional[np.ndarray], value) -> bool:
    return arr is not None and arr.dtype != object and arr.size > 0 and bool(np.all(arr == value))


def _passes_through(graph, n, x, const) -> bool:
    """``op(x, const)`` has x's exact type and const cannot broadcast x up."""
    tx = graph.type(x)
    return (tx == graph.types(n)[0] and tx.shape is not None
            and const.ndim <= len(tx.shape))


def identity_operand(graph, n, ctx):
    """x + 0, x - 0, x * 1, x / 1, x ** 1 (and 0 + x, 1 * x) -> x."""
    op = graph.op(n)
    if op.identity is None or op.arity != 2:
        return None
    a, b = graph.inputs_of(n)
    pairs = [(a, b), (b, a)] if op.commutative else [(a, b)]
    for x, c in pairs:
        arr = const_array(graph, c)
        if _all_equal(arr, op.identity) and _passes_through(graph, n, x, arr):
            return x
    return None


def double_negation(graph, n, ctx):
    """Neg(Neg(x)) -> x."""
    if isinstance(graph.op(n), Neg):
        (inner,) = graph.inputs_of(n)
        if isinstance(graph.op(inner[0]), Neg):
            return graph.inputs_of(inner[0])[0]
    return None


def identity_transpose(graph, n, ctx):
    """Transpose(x, perm) -> x when perm is (0, 1, ..., r-1)."""
    op = graph.op(n)
    if isinstance(op, Transpose) and op.perm is not None and op.perm == tuple(range(len(op.perm))):
        return graph.inputs_of(n)[0]
    return None


def transpose_of_transpose(graph, n, ctx):
    """Transpose(Transpose(x, p), q) -> Transpose(x, p∘q), or x when that is the identity."""
    outer = graph.op(n)
    if not isinstance(outer, Transpose):
        return None
    (v,) = graph.inputs_of(n)
    inner = graph.op(v[0])
    if not isinstance(inner, Transpose):
        return None
    (x,) = graph.inputs_of(v[0])
    if outer.perm is None and inner.perm is None:
        return x
    rank = graph.type(x).rank
    if rank is None:
        return None
    p, q = inner.full_perm(rank), outer.full_perm(rank)
    perm = tuple(p[i] for i in q)
    if perm == tuple(range(rank)):
        return x
    return _new_like(graph, n, Transpose(perm), x)


def reshape_of_reshape(graph, n, ctx):
    """Reshape(Reshape(x, s), t) -> Reshape(x, t) when t has no 0 (copy-dim) entry and x
    is static (so the inner reshape is known to succeed); Reshape(x, t) -> x when x is
    static and already has that shape."""
    op = graph.op(n)
    if not isinstance(op, Reshape):
        return None
    (v,) = graph.inputs_of(n)
    out_t = graph.types(n)[0]
    if graph.type(v) == out_t and out_t.is_static:
        return v
    if isinstance(graph.op(v[0]), Reshape) and 0 not in op.shape:
        (x,) = graph.inputs_of(v[0])
        if not graph.type(x).is_static:
            return None     # the inner reshape may fail at run time (6 elements into (-1, 4))
        try:
            same = op.infer(graph.type(x))[0] == out_t
        except InferError:
            return None
        if same:
            return _new_like(graph, n, op, x)
    return None


def same_dtype_cast(graph, n, ctx):
    """Cast(x, dtype) -> x when x already has that dtype."""
    op = graph.op(n)
    if isinstance(op, Cast):
        (x,) = graph.inputs_of(n)
        if graph.type(x).dtype == op.dtype:
            return x
    return None


def mul_by_zero(graph, n, ctx):
    """x * 0 -> zeros (integers always; floats only with fast_math: NaN*0 is NaN)."""
    if not isinstance(graph.op(n), Mul):
        return None
    t: TensorType = graph.types(n)[0]
    if (t.dtype in FLOAT_DTYPES and not ctx.fast_math) or not t.is_static \
            or int(np.prod(t.shape)) > MAX_CONST_ELEMENTS:
        return None
    if not any(_all_equal(const_array(graph, v), 0) for v in graph.inputs_of(n)):
        return None
    # the zeros need none of the operands: an update or host op only they need would
    # stop running (AssignAdd(v, 1) * 0 must still count)
    dropped = graph.needed_by([u for u, _ in graph.inputs_of(n)])
    if any(graph.op(u).stateful or graph.op(u).host for u in dropped):
        return None
    return (add_const(graph, np.zeros(t.shape, t.dtype), n), 0)


def _new_like(graph, n, op, x):
    return (graph.add(op, [x], names=graph.names(n), device=graph.device(n)), 0)


#: The rules, tried in order on every node; the first that fires wins.
RULES = (identity_operand, double_negation, identity_transpose, transpose_of_transpose,
         reshape_of_reshape, same_dtype_cast, mul_by_zero)

#: Which ops each rule can match: the table the rules are looked up in.
_MATCHES = {identity_operand: lambda op: op.identity is not None and op.arity == 2,
            double_negation: lambda op: isinstance(op, Neg),
            identity_transpose: lambda op: isinstance(op, Transpose),
            transpose_of_transpose: lambda op: isinstance(op, Transpose),
            reshape_of_reshape: lambda op: isinstance(op, Reshape),
            same_dtype_cast: lambda op: isinstance(op, Cast),
            mul_by_zero: lambda op: isinstance(op, Mul)}


def _rewritable(graph, n) -> bool:
    if is_effectful(graph, n) or len(graph.types(n)) != 1:
        return False
    return not graph.control_users(n) and (bool(graph.node_users(n)) or (n, 0) in graph.outputs)


@register_pass("simplify", phase=Phase.PRE_PLACEMENT, opt_level=1, after=["fold_constants"],
               before=["cse"], fixed_point=True)
def simplify(graph, ctx) -> bool:
    """Algebraic identities: x+0, x*1, x/1, --x, Transpose/Reshape pairs, same-dtype Cast, int x*0.

    The rules in RULES are tried on every node once, in topological order.
    """
    changed = False
    for n in topo_order(graph, ctx):
        rules = [r for r in RULES if _MATCHES[r](graph.op(n))] if n in graph else ()
        if not rules or not _rewritable(graph, n):
            continue
        for rule in rules:
            new = rule(graph, n, ctx)
            if new is not None:
                graph.replace_all_uses((n, 0), new)
                sweep(graph, [n])
                changed = True
                break
    return changed
