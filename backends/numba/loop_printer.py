"""Print a loop group as Python source: one loop nest, passes per row.

The printer follows the group's ``Schedule`` and reads the facts of
``loop_analysis``; it decides nothing itself. Its only state is the row
being printed (``_Row``): the prefix of its temporaries, its loop variables
and the instructions already computed in the current scope. A pipelined row
loop prints the next row's first pass under a row of its own (``next_row``).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

import numpy as np

from netjit.compiler.ops import Reduce

from .groups import ConstRef, InstrRef, LoopGroup, Operand, Output, OutKind
from .loop_analysis import closure, divides_by_row_value, operands, reductions_of_phase, row_instrs
from .loop_domain import GroupVars, group_vars, print_cutbacks, print_domain
from .loop_schedule import ROW_BLOCKS, Schedule, blocked_sums, first_pass, schedule
from .lowering import (SUM_BLOCK, accumulate, accumulator_init, ctor, reduction_result,
                       scalar_expr)
from .lowering.base import tup
from .writer import Writer


class _GroupScalars:
    """The ``ScalarContext`` of one group: the module's constants, and which of the
    group's own temporaries are known to be <= 0 (temporaries are named per group,
    so a fact about ``g0_t1`` holds in this group only)."""

    def __init__(self, consts, nonpositive: set):
        self.consts, self.fastmath, self.nonpositive = consts, consts.fastmath, nonpositive

    def const(self, value, dtype) -> str:
        return self.consts.const(value, dtype)

    def literal_of(self, arg: str):
        return self.consts.literal_of(arg)

    def is_nonpositive(self, arg: str) -> bool:
        return arg in self.nonpositive


@dataclass
class _Row:
    """The row being printed: its temporaries' prefix, loop variables, computed instructions."""

    prefix: str
    ivars: list
    done: set = field(default_factory=set)


def print_group(w: Writer, group: LoopGroup, gid: int, values: Mapping, consts, parallel: bool,
                pools: dict) -> None:
    """Write group number ``gid`` into kernel body ``w``.

    ``values`` maps graph values to kernel variables, ``consts`` holds the
    module's scalar globals, ``pools`` the buffer-pool argument of each
    output that has one; ``parallel``: the prange variant of the kernel.
    """
    sched = schedule(group, parallel)
    _Printer(w, group, group_vars(group, gid, values, sched.narrow), sched, consts, pools).write()


class _Printer:
    def __init__(self, w: Writer, g: LoopGroup, v: GroupVars, s: Schedule, consts, pools: dict):
        self.w, self.g, self.v, self.s, self.pools = w, g, v, s, pools
        self.ctx = _GroupScalars(consts, {f"{v.prefix}t{k}" for k in s.nonpositive})
        self.row = _Row(v.prefix, v.ivars)

    def write(self) -> None:
        g, w, v = self.g, self.w, self.v
        if not g.outputs:      # nothing reads the group (dead code the passes left)
            w.line("pass")
            return
        print_domain(w, g, v)
        for i, name in v.scalars.items():
            w.line(f"{name} = {v.exts[i]}[()]")
        self.allocations()
        if g.rank == 0:
            self.row_body(outer=())
        else:
            self.outer(0)
        print_cutbacks(w, g, v)

    # -- buffers and loops over the outer dims -----------------------------------
    def out_shape(self, o: Output) -> str:
        dims = self.v.dims if o.kind is OutKind.FULL else self.v.dims[:-1] + (["1"] if o.kind is OutKind.KEEP else [])
        return tup(dims)

    def allocations(self) -> None:
        for o in self.g.outputs:
            name, shp = self.v.values[o.value], self.out_shape(o)
            dt = f"np.{np.dtype(self.g.instrs[o.instr].dtype).name}"
            if o.value in self.pools:
                pool = self.pools[o.value]
                self.w.line(f"{name} = {pool} if {pool}.shape == {shp} else np.empty({shp}, {dt})")
            elif o.alias is not None:
                self.w.line(f"{name} = {self.v.exts[o.alias]}  # overwrite the GEMM result in place")
            else:
                self.w.line(f"{name} = np.empty({shp}, {dt})")

    def loop_kw(self, k: int) -> str:
        return "prange" if self.s.prange_outer and k == 0 else "range"

    def outer(self, k: int) -> None:
        if k == 0 and self.s.pipelined:
            self.pipelined_rows()
            return
        if k == self.g.rank - 1:
            self.row_body(outer=tuple(self.v.ivars[:-1]))
            return
        self.w.line(f"for {self.v.ivars[k]} in {self.loop_kw(k)}({self.v.dims[k]}):")
        with self.w.indent():
            self.outer(k + 1)

    # -- values ---------------------------------------------------------------
    def arg(self, a: Operand) -> str:
        """The expression of operand ``a`` in the current row."""
        if isinstance(a, ConstRef):
            return a.name
        if isinstance(a, InstrRef):
            return f"{self.row.prefix}t{a.index}"
        e = self.g.exts[a.index]
        if e.rank == 0:
            return self.v.scalars[a.index]
        idx = ["0" if e.shape[ax] == 1 else self.row.ivars[self.g.rank - e.rank + ax] for ax in range(e.rank)]
        return f"{self.v.exts[a.index]}[{', '.join(idx)}]"

    def instr(self, k: int) -> None:
        """Compute instruction ``k`` in the current row, unless it already is."""
        ins, row = self.g.instrs[k], self.row
        if k in row.done:
            return
        row.done.add(k)
        args = [self.arg(a) for a in ins.args]
        if isinstance(ins.op, Reduce):      # identity: reduced axis has size 1 here
            expr = f"{ctor(ins.dtype)}({args[0]})"
        else:
            dts = [self.g.dtype_of(a) for a in ins.args]
            expr = scalar_expr(ins.op, args, dts, ins.dtype, self.ctx)
            if divides_by_row_value(self.g, ins, self.ctx.fastmath):
                expr = f"({args[0]} * ({self.ctx.const(1, ins.dtype)} / {args[1]}))"
        self.w.line(f"{row.prefix}t{k} = {expr}")

    def row_instrs(self, p: int) -> None:
        for k in row_instrs(self.g, p):
            self.instr(k)

    # -- reductions -------------------------------------------------------------
    def init(self, k: int, var: str = "a") -> str:
        """Reduction ``k``'s accumulator (``a``, or ``b`` for a block's) set to its identity."""
        ins = self.g.instrs[k]
        return f"{self.row.prefix}{var}{k} = {accumulator_init(ins.op, ins.dtype, self.ctx)}"

    def update(self, k: int, acc: Optional[str] = None) -> str:
        """Reduction ``k``'s accumulation of this element (into ``acc``, default its accumulator)."""
        ins = self.g.instrs[k]
        return accumulate(ins.op, ins.dtype, acc or f"{self.row.prefix}a{k}", self.arg(ins.args[0]))

    def finish(self, k: int) -> str:
        ins, p = self.g.instrs[k], self.row.prefix
        width = self.v.widths.get(k, self.v.dims[-1])
        return f"{p}t{k} = {reduction_result(ins.op, ins.dtype, f'{p}a{k}', width)}"

    # -- one row: its passes ------------------------------------------------------
    def row_body(self, outer: tuple, pipelined: bool = False) -> None:
        """All passes over the row ``outer`` indexes, then its row-level outputs."""
        self.row.done = set()
        last = self.g.last_phase
        for p in range(last + 1):
            self.row_instrs(p)
            self.row_pass(p, pipelined)
        self.row_instrs(last + 1)
        for o in self.g.outputs:
            name, t = self.v.values[o.value], f"{self.row.prefix}t{o.instr}"
            if o.kind is not OutKind.FULL:
                idx = list(outer) + (["0"] if o.kind is OutKind.KEEP else [])
                self.w.line(f"{name}[{', '.join(idx) if idx else '()'}] = {t}")
            elif self.g.rank == 0:
                self.w.line(f"{name}[()] = {t}")

    def row_pass(self, p: int, pipelined: bool) -> None:
        """Pass ``p``: its reductions and, in the last pass, the full outputs."""
        g, w = self.g, self.w
        reds = reductions_of_phase(g, p)
        if p == 0 and pipelined:     # computed by the previous row (or the block's prologue)
            self.row.done.update(reds)
            return
        full_outs = [o for o in g.outputs if o.kind is OutKind.FULL] if p == g.last_phase else []
        for k in reds:
            w.line(self.init(k))
        nxt = pipelined and p == 1
        if nxt:
            with self.next_row():
                for k in first_pass(g):
                    w.line(self.init(k))
        wide = [k for k in reds if k not in self.s.narrow]
        if g.rank and (wide or full_outs or nxt):
            self.inner(p, wide, full_outs, extra=self.next_first_pass if nxt else None)
        for k in reds:
            if k in self.s.narrow:     # its own loop, over its operand's true width
                self.inner(p, [k], [], bound=self.v.widths[k])
        for k in reds:
            self.row.done.add(k)
            w.line(self.finish(k))
        if nxt:
            with self.next_row():
                for k in first_pass(g):
                    w.line(self.finish(k))

    def inner(self, p: int, reds: list, full_outs: list, bound: Optional[str] = None,
              extra: Optional[Callable] = None) -> None:
        """The loop over the last axis in pass ``p`` (``bound``: a narrow reduction's width)."""
        w = self.w
        kw = self.loop_kw(0) if self.g.rank == 1 else "range"
        n = bound or self.v.dims[-1]
        blocked = blocked_sums(self.g, reds, kw == "range", bound is not None)
        if not blocked:
            w.line(f"for j in {kw}({n}):")
            self.inner_body(p, reds, full_outs, blocked, extra)
            return
        w.line(f"for jb in range(0, {n}, {SUM_BLOCK}):")
        with w.indent():
            for k in blocked:
                w.line(self.init(k, "b"))
            w.line(f"for j in range(jb, min(jb + {SUM_BLOCK}, {n})):")
            self.inner_body(p, reds, full_outs, blocked, extra)
            for k in blocked:
                w.line(f"{self.row.prefix}a{k} += {self.row.prefix}b{k}")

    def inner_body(self, p: int, reds: list, full_outs: list, blocked: list, extra) -> None:
        w, row, stash = self.w, self.row, self.s.stash
        with w.indent():
            roots = operands(self.g, reds) + [o.instr for o in full_outs]
            saved = set(row.done)
            stop = ()
            if stash and full_outs:       # reuse the value stored by the previous pass
                stop = (stash.instr,)
                row.done.add(stash.instr)
                w.line(f"{row.prefix}t{stash.instr} = {self.v.values[stash.output.value]}[{', '.join(row.ivars)}]")
            for k in closure(self.g, roots, stop):
                self.instr(k)
            # a pipelined group's stash needs a last phase >= 2: never stored by the prologue
            if stash and p == self.g.last_phase - 1:
                w.line(f"{self.v.values[stash.output.value]}[{', '.join(row.ivars)}] = {row.prefix}t{stash.instr}")
            row.done = saved
            for k in reds:
                w.line(self.update(k, f"{row.prefix}b{k}" if k in blocked else None))
            for o in full_outs:
                w.line(f"{self.v.values[o.value]}[{', '.join(row.ivars)}] = {row.prefix}t{o.instr}")
            if extra is not None:
                extra()

    # -- rows pipelined: the next row's first pass inside this row's second ----
    def pipelined_rows(self) -> None:
        w, p, d0 = self.w, self.v.prefix, self.v.dims[0]
        first = first_pass(self.g)
        # blocks of rows, more than threads: each costs one unpipelined first pass
        # (1/128 of W5's rows); numba's get_num_threads would make the kernel uncacheable
        w.line(f"{p}nch = min({ROW_BLOCKS}, {d0})")
        w.line(f"for {p}c in prange({p}nch):")
        with w.indent():
            w.line(f"{p}lo = ({p}c * {d0}) // {p}nch")
            w.line(f"{p}hi = (({p}c + 1) * {d0}) // {p}nch")
            w.line(f"i0 = {p}lo")
            self.row.done = set()
            for k in first:              # the block's first row: its first pass alone
                w.line(self.init(k))
            self.inner(0, first, [])
            for k in first:
                w.line(self.finish(k))
            w.line(f"for i0 in range({p}lo, {p}hi):")
            with w.indent():
                w.line(f"i0n = i0 + 1 if i0 + 1 < {p}hi else i0")
                self.row_body(outer=("i0",), pipelined=True)
                for k in first:          # the next row's first pass is done
                    w.line(f"{p}t{k} = {p}n_t{k}")

    @contextmanager
    def next_row(self):
        """Print for row ``i0n`` instead of ``i0``: its own temporaries (prefix ``<p>n_``)."""
        saved = self.row
        self.row = _Row(f"{saved.prefix}n_", ["i0n", "j"])
        try:
            yield
        finally:
            self.row = saved

    def next_first_pass(self) -> None:
        """Inside this row's second pass: the next row's first-pass updates."""
        first = first_pass(self.g)
        with self.next_row():
            for k in closure(self.g, operands(self.g, first)):
                self.instr(k)
            for k in first:
                self.w.line(self.update(k))
