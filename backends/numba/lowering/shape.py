"""Shape ops as statements: views wherever NumPy gives one (transpose, split, slice).

Ranks are static; the sizes are read at run time, and a reshape or split
whose sizes do not fit raises ``ValueError`` as NumPy would.
"""
from __future__ import annotations

import numpy as np

from netjit.compiler.ops import Concat, Reshape, Slice, Split, Transpose
from netjit.compiler.ops.base import normalize_axes

from .base import lower_stmt, tup


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
    w.line(f"{outs[0]} = np.ascontiguousarray({x}).reshape({tup(dims)})")


@lower_stmt.register
def _(op: Transpose, w, ins, outs, in_types, out_types):
    perm = op.full_perm(in_types[0].rank)
    w.line(f"{outs[0]} = np.transpose({ins[0]}, {tup(map(str, perm))})")


@lower_stmt.register
def _(op: Concat, w, ins, outs, in_types, out_types):
    (axis,) = normalize_axes((op.axis,), in_types[0].rank)
    w.line(f"{outs[0]} = np.concatenate({tup(ins)}, axis={axis})")


@lower_stmt.register
def _(op: Split, w, ins, outs, in_types, out_types):
    rank = in_types[0].rank
    axis = op.axis % rank
    x = ins[0]
    w.line(f"_n = {x}.shape[{axis}]")
    if op.split is not None:
        w.line(f"if _n != {sum(op.split)}:")
        w.line("    raise ValueError('split sizes do not add up to the dim')")
        bounds = np.concatenate([[0], np.cumsum(op.split)]).tolist()
        cuts = [(str(bounds[i]), str(bounds[i + 1])) for i in range(len(op.split))]
    else:
        w.line(f"if _n % {op.num}:")
        w.line("    raise ValueError('dim does not split into equal parts')")
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
