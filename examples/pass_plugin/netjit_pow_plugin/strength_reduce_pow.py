"""strength_reduce_pow: Pow(x, n) -> multiplications, for small integer n.

    %p = Pow(%x, %three)     ->     %t = Mul(%x, %x); %p = Mul(%t, %x)

Only when the exponent is a constant whose elements all equal one integer
2..max_exponent and the result has x's exact type (no broadcast or dtype
promotion by the constant). ``x*x`` is exactly ``pow(x, 2)``, and integers
are exact at any power; for float exponents of 3 and more the product rounds
at each multiply where ``pow`` rounds once (a last-bit difference), so those
are rewritten only at opt level 3 or with ``fast_math``.
"""
from __future__ import annotations

import numpy as np

from netjit.compiler.ops import FLOAT_DTYPES, Const, Mul, Pow
from netjit.passes import Phase, register_pass


def _exponent(graph, n, limit):
    """The integer exponent of Pow node ``n`` if it qualifies, else None."""
    x, c = graph.inputs_of(n)
    op = graph.op(c[0])
    if not isinstance(op, Const) or op.value.array.dtype == object or op.value.array.size == 0:
        return None
    arr = op.value.array
    k = arr.flat[0]
    tx = graph.type(x)
    if not (np.all(arr == k) and float(k).is_integer() and 2 <= k <= limit):
        return None
    if tx != graph.types(n)[0] or tx.shape is None or arr.ndim > len(tx.shape):
        return None
    return int(k)


def _may_round(t, ctx) -> bool:
    """Rounding may change (floats) only at opt level 3 or with fast_math."""
    return t.dtype not in FLOAT_DTYPES or ctx.opt_level >= 3 or ctx.fast_math


def _power(graph, x, k, like):
    """x**k by repeated squaring, as new Mul nodes; the last carries ``like``'s name."""
    device = graph.device(like)
    if k == 1:
        return x
    half = _power(graph, x, k // 2, like) if k // 2 > 1 else x
    sq = (graph.add(Mul(), [half, half], device=device), 0)
    return (graph.add(Mul(), [sq, x], device=device), 0) if k % 2 else sq


@register_pass("strength_reduce_pow", phase=Phase.PRE_PLACEMENT, opt_level=2,
               after=["fold_constants"], before=["cse"], options={"max_exponent": 4})
def strength_reduce_pow(graph, ctx) -> bool:
    """Pow(x, n) -> x*x*... for constant integer n in 2..max_exponent."""
    limit, changed = int(ctx.option("max_exponent")), False
    for n in graph.nodes():
        if not isinstance(graph.op(n), Pow) or any(
                d["control"] for _, _, d in graph.nx.out_edges(n, data=True)):
            continue
        k = _exponent(graph, n, limit)
        if k is None or (k > 2 and not _may_round(graph.types(n)[0], ctx)):
            continue
        x = graph.inputs_of(n)[0]
        result = _power(graph, x, k, n)
        graph.set_names(result[0], graph.names(n))
        graph.replace_all_uses((n, 0), result)
        graph.remove(n)
        changed = True
    return changed
