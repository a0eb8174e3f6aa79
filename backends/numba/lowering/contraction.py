"""Contractions as statements: MatMul, FC and the prepacked product.

Float products call the CBLAS NumPy's wheel bundles (``blas``) where it is
available, else ``np.dot``; integer products ``mathlib.imatmul``. Batched
products broadcast their batch dims and run one 2-D product per entry.
"""
from __future__ import annotations

import numpy as np

from netjit.compiler.ops import FC, MatMul

from .. import blas
from netjit.compiler.ops import PackedMatMul
from .base import lower_stmt, np_dtype, tup


def _product(dtype, a: str, trans_a: bool, b: str, trans_b: bool) -> str:
    """A 2-D op(a) @ op(b): NumPy's BLAS for floats (the transposed operand read in place)."""
    kind = np.dtype(dtype)
    if kind.kind == "f" and blas.AVAILABLE and kind.itemsize in (4, 8):
        fn = "sgemm" if kind.itemsize == 4 else "dgemm"
        return f"{fn}({a}, {trans_a}, {b}, {trans_b})"
    # BLAS reads a transposed C array as is (an F-layout view): no copy
    a = f"np.ascontiguousarray({a}).T" if trans_a else f"np.ascontiguousarray({a})"
    b = f"np.ascontiguousarray({b}).T" if trans_b else f"np.ascontiguousarray({b})"
    if kind.kind == "f":
        return f"np.dot({a}, {b})"
    return f"imatmul(np.ascontiguousarray({a}), np.ascontiguousarray({b}))"



@lower_stmt.register
def _(op: PackedMatMul, w, ins, outs, in_types, out_types):
    a, rank = ins[0], in_types[0].rank
    if rank > 2:         # leading dims are rows: one product over all of them
        lead = [f"{a}.shape[{i}]" for i in range(rank - 1)]
        w.line(f"_a2 = np.ascontiguousarray({a}).reshape(({' * '.join(lead)}, {a}.shape[{rank - 1}]))")
        a = "_a2"
    call = (f"psgemm_bias({a}, {ins[1]}, {op.n}, {ins[2]}, {op.relu}, {op.parallel})" if len(ins) == 3
            else f"psgemm({a}, {ins[1]}, {op.n}, {op.relu}, {op.parallel})")
    if rank > 2:
        w.line(f"{outs[0]} = {call}.reshape({tup(lead + [str(op.n)])})")
    else:
        w.line(f"{outs[0]} = {call}")


@lower_stmt.register
def _(op: MatMul, w, ins, outs, in_types, out_types):
    a, b = ins
    ta, tb = in_types
    dt = out_types[0].dtype
    # converted copies under names of their own: an operand may also be an output,
    # or read by a later statement, in its own dtype
    if ta.dtype != dt:
        w.line(f"_mm_a = {a}.astype({np_dtype(out_types[0])})")
        a = "_mm_a"
    if tb.dtype != dt:
        w.line(f"_mm_b = {b}.astype({np_dtype(out_types[0])})")
        b = "_mm_b"
    ra, rb = ta.rank, tb.rank
    if ra <= 2 and rb <= 2:
        a2, trans_a = (a, op.trans_a) if ra == 2 else (f"{a}.reshape((1, {a}.shape[0]))", False)
        b2, trans_b = (b, op.trans_b) if rb == 2 else (f"np.ascontiguousarray({b}).reshape(({b}.shape[0], 1))", False)
        w.line(f"_mm = {_product(dt, a2, trans_a, b2, trans_b)}")
        shape = (["_mm.shape[0]"] if ra == 2 else []) + (["_mm.shape[1]"] if rb == 2 else [])
        w.line(f"{outs[0]} = _mm" if ra == 2 and rb == 2 else f"{outs[0]} = _mm.reshape({tup(shape)})")
        return
    if op.trans_a and ra >= 2:
        a = f"np.swapaxes({a}, {ra - 2}, {ra - 1})"
    if op.trans_b and rb >= 2:
        b = f"np.swapaxes({b}, {rb - 2}, {rb - 1})"
    _batched(w, a, b, ra, rb, outs[0], out_types[0])


def _batched(w, a, b, ra, rb, out, t) -> None:
    """Batch dims broadcast; one 2-D product per batch entry. A rank-1 operand is a
    matrix of one row (a) or one column (b) whose axis is dropped again, as NumPy does."""
    drop_m = ra == 1
    if ra == 1:
        a, ra = f"{a}.reshape((1, {a}.shape[0]))", 2
    if rb == 1:
        b, rb, drop_n = f"{b}.reshape(({b}.shape[0], 1))", 2, True
    else:
        drop_n = False
    nb = max(ra, rb) - 2
    w.line(f"_a, _b = {a}, {b}")
    dims = []
    for k in range(nb):
        da = f"_a.shape[{k - (nb - (ra - 2))}]" if k >= nb - (ra - 2) else "1"
        db = f"_b.shape[{k - (nb - (rb - 2))}]" if k >= nb - (rb - 2) else "1"
        dims.append(f"bdim({da}, {db})")
    w.line(f"_bs = {tup(dims)}")
    w.line("_nb = 1")
    w.line("for _d in _bs:")
    w.line("    _nb *= _d")
    w.line(f"_a3 = expand(_a, _bs + (_a.shape[{ra - 2}], _a.shape[{ra - 1}])).reshape((_nb, _a.shape[{ra - 2}], _a.shape[{ra - 1}]))")
    w.line(f"_b3 = expand(_b, _bs + (_b.shape[{rb - 2}], _b.shape[{rb - 1}])).reshape((_nb, _b.shape[{rb - 2}], _b.shape[{rb - 1}]))")
    w.line(f"_o3 = np.empty((_nb, _a3.shape[1], _b3.shape[2]), {np_dtype(t)})")
    w.line("for _k in range(_nb):")
    w.line(f"    _o3[_k] = {_product(t.dtype, '_a3[_k]', False, '_b3[_k]', False)}")
    tail = ([] if drop_m else ["_a3.shape[1]"]) + ([] if drop_n else ["_b3.shape[2]"])
    w.line(f"{out} = _o3.reshape(_bs + {tup(tail)})")


@lower_stmt.register
def _(op: FC, w, ins, outs, in_types, out_types):
    x, wt, b = ins
    t = out_types[0]
    w.line("_m = 1")
    for k in range(op.axis):
        w.line(f"_m *= {x}.shape[{k}]")
    w.line(f"_x2 = np.ascontiguousarray({x}).reshape((_m, {x}.size // max(_m, 1))).astype({np_dtype(t)})")
    product = _product(t.dtype, "_x2", False, f"{wt}.astype({np_dtype(t)})", True)
    w.line(f"{outs[0]} = {product} + {b}.astype({np_dtype(t)})")
