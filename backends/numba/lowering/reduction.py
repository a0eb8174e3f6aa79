"""Reductions: a statement over any axes, or an accumulator inside a loop group.

A reduction outside a loop group (``lower_stmt``) moves its axes last and
reduces the rows of a 2-D view. Inside a group (last axis only), it is an
accumulator: ``accumulator_init`` before the row's pass, ``accumulate`` per
element, ``reduction_result`` after it. Max and min of floats go through
NaN-propagating LLVM intrinsics (``mathlib.fmaximum``): NumPy's semantics,
and they vectorise. Float sums add through ``acc_add``, reassociating from
fast-math level 1.
"""
from __future__ import annotations

import numpy as np

from netjit.compiler.ops import Reduce, ReduceMax, ReduceMean, ReduceMin, ReduceSum
from netjit.compiler.ops.base import normalize_axes

from .base import ScalarContext, ctor, lower_stmt, np_dtype, tup

#: float32 sums over longer rows add up blocks of this many elements, then the blocks
#: (here and in the fused loops): one running float32 sum over a million elements of
#: about 1000 was 2.3e-4 off, where NumPy's pairwise sum is 1e-7 off. Rows up to this
#: length (W4's and W5's 1024) keep a single loop.
SUM_BLOCK = 4096

_EXTREMA = (ReduceMax, ReduceMin)


def sums_in_blocks(op: Reduce, dtype) -> bool:
    """Whether a long row of this reduction adds up blocks of ``SUM_BLOCK`` (float32 sums)."""
    return isinstance(op, (ReduceSum, ReduceMean)) and np.dtype(dtype) == np.float32


def accumulator_init(op: Reduce, dtype, ctx: ScalarContext) -> str:
    """The accumulator's starting value: the reduction's identity."""
    dt = np.dtype(dtype)
    if isinstance(op, _EXTREMA):
        lowest = isinstance(op, ReduceMax)
        if dt.kind == "f":
            return ctx.const(-np.inf if lowest else np.inf, dt)
        info = np.iinfo(dt)
        return ctx.const(info.min if lowest else info.max, dt)
    return ctx.const(0, dt)


def accumulate(op: Reduce, dtype, acc: str, value: str) -> str:
    """The statement folding element ``value`` into accumulator ``acc``."""
    v = f"{ctor(dtype)}({value})"
    if isinstance(op, _EXTREMA):
        if np.dtype(dtype).kind == "f":
            fn = "fmaximum" if isinstance(op, ReduceMax) else "fminimum"
            return f"{acc} = {fn}({acc}, {v})"
        cmp = ">" if isinstance(op, ReduceMax) else "<"
        return f"_v = {v}; {acc} = _v if _v {cmp} {acc} else {acc}"
    if np.dtype(dtype).kind == "f":
        return f"{acc} = acc_add({acc}, {v})"
    return f"{acc} += {v}"


def reduction_result(op: Reduce, dtype, acc: str, width: str) -> str:
    """The reduced value from accumulator ``acc`` over a row of ``width`` elements."""
    if isinstance(op, ReduceMean):
        return f"{ctor(dtype)}({acc} / {width})"
    return acc


@lower_stmt.register
def _(op: Reduce, w, ins, outs, in_types, out_types):
    """Any axes: move them last, then reduce rows of a 2-D view."""
    x, rank = ins[0], in_types[0].rank
    axes = normalize_axes(op.axes, rank)
    kept = [a for a in range(rank) if a not in axes]
    perm = kept + list(axes)
    t = out_types[0]
    src = x if perm == list(range(rank)) else f"np.transpose({x}, {tup(map(str, perm))})"
    outer = " * ".join(f"{x}.shape[{a}]" for a in kept) or "1"
    inner = " * ".join(f"{x}.shape[{a}]" for a in axes) or "1"
    w.line(f"_o, _i = {outer}, {inner}")
    w.line(f"_x2 = np.ascontiguousarray({src}).reshape((_o, _i))")
    w.line(f"_r = np.empty(_o, {np_dtype(t)})")
    w.line("for _q in range(_o):")
    with w.indent():
        _reduce_row(w, op, t)
    shape = [("1" if a in axes else f"{x}.shape[{a}]") for a in range(rank) if op.keepdims or a not in axes]
    w.line(f"{outs[0]} = _r.reshape({tup(shape)})")


def _reduce_row(w, op: Reduce, t) -> None:
    dt = np.dtype(t.dtype)
    cast = f"np.{dt.name}"
    if isinstance(op, _EXTREMA):
        _extremum_row(w, op, dt)
    elif dt == np.float32:       # block by block (SUM_BLOCK)
        w.line(f"_acc = {cast}(0)")
        w.line(f"for _jb in range(0, _i, {SUM_BLOCK}):")
        w.line(f"    _blk = {cast}(0)")
        w.line(f"    for _j in range(_jb, min(_jb + {SUM_BLOCK}, _i)):")
        w.line(f"        _blk = acc_add(_blk, {cast}(_x2[_q, _j]))")
        w.line("    _acc += _blk")
    else:
        w.line(f"_acc = {cast}(0)")
        w.line("for _j in range(_i):")
        w.line(f"    _acc = acc_add(_acc, {cast}(_x2[_q, _j]))" if dt.kind == "f" else f"    _acc += {cast}(_x2[_q, _j])")
    if isinstance(op, ReduceMean):
        w.line(f"_acc = {cast}(_acc / _i)")
    w.line("_r[_q] = _acc")


def _extremum_row(w, op: Reduce, dt: np.dtype) -> None:
    cast = f"np.{dt.name}"
    big = "np.inf" if dt.kind == "f" else str(np.iinfo(dt).max)
    is_max = isinstance(op, ReduceMax)
    init = f"-{big}" if is_max and dt.kind == "f" else (str(np.iinfo(dt).min) if is_max else big)
    w.line(f"_acc = {cast}({init})")
    w.line("for _j in range(_i):")
    if dt.kind == "f":
        w.line(f"    _acc = {'fmaximum' if is_max else 'fminimum'}(_acc, {cast}(_x2[_q, _j]))")
    else:
        w.line(f"    _v = {cast}(_x2[_q, _j])")
        w.line(f"    _acc = _v if _v {'>' if is_max else '<'} _acc else _acc")
