"""Statements: ops that are not fused into loop groups, as NumPy-in-numba code.

``lower_stmt`` is registered per op class (``singledispatch``). A lowering
writes lines computing ``outs`` from ``ins`` (kernel variable names); shapes
are read at run time, ranks are static. Shape ops return views wherever NumPy
would.
"""
from __future__ import annotations

from functools import singledispatch

import numpy as np

from netjit.compiler.ops import (FC, Concat, MatMul, Reduce, Reshape, Slice, Split,
                                 Transpose, TensorType)
from netjit.compiler.ops.base import normalize_axes

from . import blas
from .prepack import PackedMatMul
from .writer import Writer

#: float32 sums over longer rows add up blocks of this many elements, then the blocks
#: (here and in the fused loops, ``emit_loops``): one running float32 sum over a
#: million elements of about 1000 was 2.3e-4 off, where NumPy's pairwise sum is 1e-7
#: off. Rows up to this length (W4's and W5's 1024) keep a single loop.
SUM_BLOCK = 4096


def _tup(items) -> str:
    items = list(items)
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")" if items else "()"


def _dt(t: TensorType) -> str:
    return f"np.{np.dtype(t.dtype).name}"


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


@singledispatch
def lower_stmt(op, w: Writer, ins: list, outs: list, in_types: list, out_types: list) -> None:
    raise NotImplementedError(f"the numba backend has no lowering for {op.name}")


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
        w.line(f"{outs[0]} = {call}.reshape({_tup(lead + [str(op.n)])})")
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
        w.line(f"_mm_a = {a}.astype({_dt(out_types[0])})")
        a = "_mm_a"
    if tb.dtype != dt:
        w.line(f"_mm_b = {b}.astype({_dt(out_types[0])})")
        b = "_mm_b"
    ra, rb = ta.rank, tb.rank
    if ra <= 2 and rb <= 2:
        a2, trans_a = (a, op.trans_a) if ra == 2 else (f"{a}.reshape((1, {a}.shape[0]))", False)
        b2, trans_b = (b, op.trans_b) if rb == 2 else (f"np.ascontiguousarray({b}).reshape(({b}.shape[0], 1))", False)
        w.line(f"_mm = {_product(dt, a2, trans_a, b2, trans_b)}")
        shape = (["_mm.shape[0]"] if ra == 2 else []) + (["_mm.shape[1]"] if rb == 2 else [])
        w.line(f"{outs[0]} = _mm" if ra == 2 and rb == 2 else f"{outs[0]} = _mm.reshape({_tup(shape)})")
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
    w.line(f"_bs = {_tup(dims)}")
    w.line("_nb = 1")
    w.line("for _d in _bs:")
    w.line("    _nb *= _d")
    w.line(f"_a3 = expand(_a, _bs + (_a.shape[{ra - 2}], _a.shape[{ra - 1}])).reshape((_nb, _a.shape[{ra - 2}], _a.shape[{ra - 1}]))")
    w.line(f"_b3 = expand(_b, _bs + (_b.shape[{rb - 2}], _b.shape[{rb - 1}])).reshape((_nb, _b.shape[{rb - 2}], _b.shape[{rb - 1}]))")
    w.line(f"_o3 = np.empty((_nb, _a3.shape[1], _b3.shape[2]), {_dt(t)})")
    w.line("for _k in range(_nb):")
    w.line(f"    _o3[_k] = {_product(t.dtype, '_a3[_k]', False, '_b3[_k]', False)}")
    tail = ([] if drop_m else ["_a3.shape[1]"]) + ([] if drop_n else ["_b3.shape[2]"])
    w.line(f"{out} = _o3.reshape(_bs + {_tup(tail)})")


@lower_stmt.register
def _(op: FC, w, ins, outs, in_types, out_types):
    x, wt, b = ins
    t = out_types[0]
    w.line(f"_m = 1")
    for k in range(op.axis):
        w.line(f"_m *= {x}.shape[{k}]")
    w.line(f"_x2 = np.ascontiguousarray({x}).reshape((_m, {x}.size // max(_m, 1))).astype({_dt(t)})")
    product = _product(t.dtype, "_x2", False, f"{wt}.astype({_dt(t)})", True)
    w.line(f"{outs[0]} = {product} + {b}.astype({_dt(t)})")


@lower_stmt.register
def _(op: Reshape, w, ins, outs, in_types, out_types):
    x = ins[0]
    dims = []
    for i, d in enumerate(op.shape):
        dims.append(f"{x}.shape[{i}]" if d == 0 else str(d))
    if -1 in op.shape:
        known = " * ".join(d for d, s in zip(dims, op.shape) if s != -1) or "1"
        w.line(f"_k = {known}")
        w.line(f"if _k == 0 or {x}.size % _k:")
        w.line("    raise ValueError('cannot reshape: sizes do not divide')")
        dims[op.shape.index(-1)] = f"{x}.size // _k"
    w.line(f"{outs[0]} = np.ascontiguousarray({x}).reshape({_tup(dims)})")


@lower_stmt.register
def _(op: Transpose, w, ins, outs, in_types, out_types):
    perm = op.full_perm(in_types[0].rank)
    w.line(f"{outs[0]} = np.transpose({ins[0]}, {_tup(map(str, perm))})")


@lower_stmt.register
def _(op: Concat, w, ins, outs, in_types, out_types):
    (axis,) = normalize_axes((op.axis,), in_types[0].rank)
    w.line(f"{outs[0]} = np.concatenate({_tup(ins)}, axis={axis})")


@lower_stmt.register
def _(op: Split, w, ins, outs, in_types, out_types):
    rank = in_types[0].rank
    axis = op.axis % rank
    x = ins[0]
    w.line(f"_n = {x}.shape[{axis}]")
    if op.split is not None:
        w.line(f"if _n != {sum(op.split)}:")
        w.line(f"    raise ValueError('split sizes do not add up to the dim')")
        bounds = np.concatenate([[0], np.cumsum(op.split)]).tolist()
        cuts = [(str(bounds[i]), str(bounds[i + 1])) for i in range(len(op.split))]
    else:
        w.line(f"if _n % {op.num}:")
        w.line(f"    raise ValueError('dim does not split into equal parts')")
        w.line(f"_p = _n // {op.num}")
        cuts = [(f"{i} * _p", f"{i + 1} * _p") for i in range(op.num)]
    for out, (lo, hi) in zip(outs, cuts):
        idx = [":"] * rank
        idx[axis] = f"{lo}:{hi}"
        w.line(f"{out} = {x}[{', '.join(idx)}]")


@lower_stmt.register
def _(op: Slice, w, ins, outs, in_types, out_types):
    idx = []
    for sl in op.index(in_types[0].rank):
        parts = ["" if v is None else str(v) for v in (sl.start, sl.stop, sl.step)]
        idx.append(":".join(parts).rstrip(":") or ":")
    w.line(f"{outs[0]} = {ins[0]}[{', '.join(idx)}]")


@lower_stmt.register
def _(op: Reduce, w, ins, outs, in_types, out_types):
    """Any axes: move them last, then reduce rows of a 2-D view."""
    x, rank = ins[0], in_types[0].rank
    axes = normalize_axes(op.axes, rank)
    kept = [a for a in range(rank) if a not in axes]
    perm = kept + list(axes)
    t = out_types[0]
    src = x if perm == list(range(rank)) else f"np.transpose({x}, {_tup(map(str, perm))})"
    outer = " * ".join(f"{x}.shape[{a}]" for a in kept) or "1"
    inner = " * ".join(f"{x}.shape[{a}]" for a in axes) or "1"
    w.line(f"_o, _i = {outer}, {inner}")
    w.line(f"_x2 = np.ascontiguousarray({src}).reshape((_o, _i))")
    w.line(f"_r = np.empty(_o, {_dt(t)})")
    w.line("for _q in range(_o):")
    with w.indent():
        _reduce_row(w, op, t)
    shape = [("1" if a in axes else f"{x}.shape[{a}]") for a in range(rank) if op.keepdims or a not in axes]
    w.line(f"{outs[0]} = _r.reshape({_tup(shape)})")


def _reduce_row(w, op, t) -> None:
    dt = np.dtype(t.dtype)
    cast = f"np.{dt.name}"
    name = op.name
    if name in ("ReduceMax", "ReduceMin"):
        big = "np.inf" if dt.kind == "f" else str(np.iinfo(dt).max)
        init = f"-{big}" if name == "ReduceMax" and dt.kind == "f" else (
            str(np.iinfo(dt).min) if name == "ReduceMax" else big)
        w.line(f"_acc = {cast}({init})")
        w.line("for _j in range(_i):")
        if dt.kind == "f":   # NaN-propagating and vectorised (see mathlib.fmaximum)
            w.line(f"    _acc = {'fmaximum' if name == 'ReduceMax' else 'fminimum'}(_acc, {cast}(_x2[_q, _j]))")
        else:
            cmp = ">" if name == "ReduceMax" else "<"
            w.line(f"    _v = {cast}(_x2[_q, _j])")
            w.line(f"    _acc = _v if _v {cmp} _acc else _acc")
    elif dt == np.float32:       # block by block (SUM_BLOCK)
        w.line(f"_acc = {cast}(0)")
        w.line(f"for _jb in range(0, _i, {SUM_BLOCK}):")
        w.line(f"    _blk = {cast}(0)")
        w.line(f"    for _j in range(_jb, min(_jb + {SUM_BLOCK}, _i)):")
        w.line(f"        _blk = acc_add(_blk, {cast}(_x2[_q, _j]))")
        w.line("    _acc += _blk")
        if name == "ReduceMean":
            w.line(f"_acc = {cast}(_acc / _i)")
    else:
        w.line(f"_acc = {cast}(0)")
        w.line("for _j in range(_i):")
        w.line(f"    _acc = acc_add(_acc, {cast}(_x2[_q, _j]))" if dt.kind == "f" else f"    _acc += {cast}(_x2[_q, _j])")
        if name == "ReduceMean":
            w.line(f"_acc = {cast}(_acc / _i)")
    w.line("_r[_q] = _acc")
