"""A loop group's variables and its domain: dims from the inputs, output shapes, cutbacks.

The nest runs over the group's domain. Its dims come from the inputs at run
time; if every input already has the domain's dims (the common case) they are
indexed directly. Otherwise inputs that broadcast along a dynamic dim are
first expanded to the domain (``expand``), and outputs whose own shape is
smaller than the domain are cut back to it after the loops.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .groups import LoopGroup, OutKind
from .loop_analysis import contributors, instr_deps, lead, may_broadcast, operand_deps, out_rank
from .lowering.base import tup
from .writer import Writer


@dataclass(frozen=True)
class GroupVars:
    """The kernel variable names one group's code uses (all start with ``prefix``)."""

    prefix: str                   # g<group id>_
    values: Mapping               # graph value -> kernel variable
    dims: list                    # the domain's dims
    ivars: list                   # loop variables, outermost first (the last axis's is ``j``)
    exts: list                    # per ext: the array the loops read
    rebinds: list                 # (local, kernel variable): exts the slow path may replace
    scalars: dict                 # rank-0 ext index -> its value, read before the loops
    widths: dict                  # narrow reduction -> its operand's runtime width


def group_vars(group: LoopGroup, gid: int, values: Mapping, narrow) -> GroupVars:
    """The names of group number ``gid``; ``narrow``: its narrow reductions."""
    p, r = f"g{gid}_", group.rank
    names = [values[e.value] for e in group.exts]
    # the slow path may replace an ext by an expanded copy: it gets a name of its own,
    # as the kernel's own variable may be returned, or read by a later group
    own = [bool(e.rank) and may_broadcast(group) for e in group.exts]
    return GroupVars(
        prefix=p, values=values,
        dims=[f"{p}d{k}" for k in range(r)],
        ivars=[f"i{k}" for k in range(r - 1)] + (["j"] if r else []),
        exts=[f"{p}{n}" if o else n for n, o in zip(names, own)],
        rebinds=[(f"{p}{n}", n) for n, o in zip(names, own) if o],
        # ``v[()]`` inside a prange body fails numba's parfor lowering (it types ``v`` as a scalar)
        scalars={i: f"{p}s{i}" for i, e in enumerate(group.exts) if e.rank == 0},
        widths={k: f"{p}w{k}" for k in narrow})


def print_domain(w: Writer, g: LoopGroup, v: GroupVars) -> None:
    """The domain's dims, the outputs' dims and, if inputs may broadcast, the slow path."""
    checks = []
    for local, name in v.rebinds:
        w.line(f"{local} = {name}")
    for k, d in enumerate(v.dims):
        cs = contributors(g, k)
        w.line(f"{d} = {v.exts[cs[0][0]]}.shape[{cs[0][1]}]" if cs else f"{d} = 1")
        checks += [f"{v.exts[i]}.shape[{a}] == {d}" for i, a in cs[1:]]
    print_out_shapes(w, g, v, runtime=False)
    for var in v.widths.values():
        w.line(f"{var} = {v.dims[-1]}")
    if not checks:
        return
    w.line(f"if not ({' and '.join(checks)}):")
    with w.indent():
        w.line("# runtime broadcasting along a dynamic dim: expand inputs to the domain")
        print_out_shapes(w, g, v, runtime=True)
        print_true_widths(w, g, v)
        _print_expansions(w, g, v)


def _print_expansions(w: Writer, g: LoopGroup, v: GroupVars) -> None:
    for k, d in enumerate(v.dims):
        w.line(f"{d} = {_bdims(v, contributors(g, k))}")
    for i, e in enumerate(g.exts):
        if e.rank:
            shp = tup([("1" if e.shape[a] == 1 else v.dims[g.rank - e.rank + a]) for a in range(e.rank)])
            w.line(f"if {v.exts[i]}.shape != {shp}:")
            w.line(f"    {v.exts[i]} = expand({v.exts[i]}, {shp})")


def _bdims(v: GroupVars, spans) -> str:
    """The broadcast of the runtime dims ``spans`` ((ext, axis) pairs)."""
    expr = "1"
    for i, a in spans:
        expr = f"bdim({v.exts[i]}.shape[{a}], {expr})"
    return expr


def print_out_shapes(w: Writer, g: LoopGroup, v: GroupVars, runtime: bool) -> None:
    """Each output's own dims: the broadcast of the inputs it reads along each dim.

    While the inputs agree (``runtime`` False) that is the domain's dim, or 1
    where none of those inputs spans it (y = Tanh(a) beside z = a + b, a (1, 3)
    and b (5, 3): y is (1, 3), computed over the domain and cut at the end);
    after runtime broadcasting, the ``bdim`` of their actual dims.
    """
    last = g.rank - 1
    for o in g.outputs:
        deps, row_deps = instr_deps(g, o.instr), instr_deps(g, o.instr, last_axis=True)
        for k in range(out_rank(g, o)):
            mine = row_deps if k == last else deps
            spans = [(i, a) for i, a in contributors(g, k) if i in mine]
            if not runtime:
                expr = v.dims[k] if spans else "1"
            else:
                expr = _bdims(v, spans)
            w.line(f"{v.prefix}o{o.instr}s{k} = {expr}")


def print_true_widths(w: Writer, g: LoopGroup, v: GroupVars) -> None:
    """Each narrow reduction's operand width: the broadcast of the inputs it reads."""
    last = contributors(g, g.rank - 1)
    for k, var in v.widths.items():
        deps = operand_deps(g, g.instrs[k].args[0], last_axis=True)
        w.line(f"{var} = {_bdims(v, [(i, ax) for i, ax in last if i in deps])}")


def print_cutbacks(w: Writer, g: LoopGroup, v: GroupVars) -> None:
    """After runtime broadcasting, outputs smaller than the domain are cut to their shape."""
    for o in g.outputs:
        n = out_rank(g, o)
        if not n:
            continue
        sizes = [f"{v.prefix}o{o.instr}s{k}" for k in range(n)]
        if o.kind is OutKind.KEEP:
            sizes[-1] = "1"
        skip = lead(g, o)
        name = v.values[o.value]
        if skip:
            w.line(f"{name} = np.ascontiguousarray({name}[{', '.join(['0'] * skip)}])")
            sizes = sizes[skip:]
        cond = " or ".join(f"{s} != {d}" for s, d in zip(sizes, v.dims[skip:]) if s != "1")
        if cond:
            w.line(f"if {cond}:")
            w.line(f"    {name} = np.ascontiguousarray({name}[{', '.join(':' + s for s in sizes)}])")
