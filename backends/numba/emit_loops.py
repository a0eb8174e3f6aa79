"""Emit a LoopGroup as Python source: one loop nest, passes per row.

The nest runs over the group's domain. Its dims come from the inputs at run
time; if every input already has the domain's dims (the common case) they are
indexed directly. Otherwise inputs that broadcast along a dynamic dim are
first expanded to the domain (``expand``), and outputs whose own shape is
smaller than the domain are cut back to it after the loops.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from netjit.compiler.ops import Reduce

from .groups import ConstRef, ExtRef, InstrRef, Level, LoopGroup, OutKind
from .lowering import (SUM_BLOCK, accumulate, accumulator_init, ctor, reduction_result, scalar_expr,
                       sums_in_blocks)
from .writer import Writer


#: row blocks of a pipelined parallel loop (see ``GroupEmitter.pipelines``)
_ROW_BLOCKS = 64


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


class GroupEmitter:
    """Writes one group; ``names`` maps graph values to kernel variable names."""

    def __init__(self, w: Writer, group: LoopGroup, gid: int, names: dict, ctx, parallel: bool,
                 pools: dict, graph):
        self.w, self.g, self.p, self.names, self.ctx = w, group, f"g{gid}_", names, ctx
        self.parallel, self.pools, self.graph = parallel, pools, graph
        r = group.rank
        self.dims = [f"{self.p}d{k}" for k in range(r)]
        self.ivars = [f"i{k}" for k in range(r - 1)] + (["j"] if r else [])
        self.ext = [names[e.value] for e in group.exts]
        self.done: set = set()
        #: exts the slow path may replace by an expanded copy get a name of their own:
        #: the kernel's own variable may be returned, or read by a later group
        self.rebind = [(f"{self.p}{n}", n) for i, n in enumerate(self.ext)
                       if group.exts[i].rank and self.may_broadcast()]
        self.ext = [f"{self.p}{n}" if group.exts[i].rank and self.may_broadcast() else n
                    for i, n in enumerate(self.ext)]
        #: reduction instr -> runtime width of its operand, for reductions that may
        #: be narrower than the domain (see ``narrow_reductions``)
        self.widths = {k: f"{self.p}w{k}" for k in self.narrow_reductions()}
        #: rank-0 exts, read once before the loops: ``v[()]`` inside a prange body
        #: fails numba's parfor lowering (it types ``v`` as a scalar there)
        self.scalars = {i: f"{self.p}s{i}" for i, e in enumerate(group.exts) if e.rank == 0}
        self.ctx = _GroupScalars(ctx, {f"{self.p}t{k}" for k, ins in enumerate(group.instrs)
                                       if self.below_row_max(ins)})

    # -- shapes -------------------------------------------------------------
    def contributors(self, k: int) -> list:
        """(ext index, its axis) for exts whose axis aligned to domain dim k is not static 1."""
        out = []
        for i, e in enumerate(self.g.exts):
            a = k - (self.g.rank - e.rank)
            if a >= 0 and e.shape[a] != 1:
                out.append((i, a))
        return out

    def narrow_reductions(self) -> list:
        """Reductions whose operand may be narrower than the domain along the last axis.

        A domain dim is the broadcast of every input's dim. When a dynamic dim
        turns out to be 1 at run time, an operand that does not read the widest
        input is constant along the reduced axis with true width 1, while the
        loops run over the domain's width: it must be reduced over its own width
        (summing the broadcast copies would count it several times). That can
        only happen if the operand misses a contributor of the last axis and none
        of the contributors it reads has a static width.
        """
        g = self.g
        if not g.rank:
            return []
        last = self.contributors(g.rank - 1)
        out = []
        for k, ins in enumerate(g.instrs):
            if not ins.reduce:
                continue
            deps = self.arg_deps(ins.args[0], last_axis=True)
            mine = [(i, ax) for i, ax in last if i in deps]
            if len(mine) < len(last) and all(g.exts[i].shape[ax] is None for i, ax in mine):
                out.append(k)
        return out

    def may_broadcast(self) -> bool:
        """Some domain dim has two inputs of dynamic size: they may broadcast at run time."""
        return any(len(self.contributors(k)) > 1 for k in range(self.g.rank))

    def emit_domain(self) -> None:
        w, checks = self.w, []
        for local, name in self.rebind:
            w.line(f"{local} = {name}")
        for k, d in enumerate(self.dims):
            cs = self.contributors(k)
            w.line(f"{d} = {self.ext[cs[0][0]]}.shape[{cs[0][1]}]" if cs else f"{d} = 1")
            checks += [f"{self.ext[i]}.shape[{a}] == {d}" for i, a in cs[1:]]
        self.emit_out_shapes(runtime=False)
        for var in self.widths.values():
            w.line(f"{var} = {self.dims[-1]}")
        if not checks:
            return
        w.line(f"if not ({' and '.join(checks)}):")
        with w.indent():
            w.line("# runtime broadcasting along a dynamic dim: expand inputs to the domain")
            self.emit_out_shapes(runtime=True)
            self.emit_true_widths()
            for k, d in enumerate(self.dims):
                expr = "1"
                for i, a in self.contributors(k):
                    expr = f"bdim({self.ext[i]}.shape[{a}], {expr})"
                w.line(f"{d} = {expr}")
            for i, e in enumerate(self.g.exts):
                if e.rank:
                    shp = self.tuple_of([("1" if e.shape[a] == 1 else self.dims[self.g.rank - e.rank + a])
                                         for a in range(e.rank)])
                    w.line(f"if {self.ext[i]}.shape != {shp}:")
                    w.line(f"    {self.ext[i]} = expand({self.ext[i]}, {shp})")

    def emit_out_shapes(self, runtime: bool) -> None:
        """Each output's own dims: the broadcast of the inputs it reads along each dim.

        While the inputs agree (``runtime`` False) that is the domain's dim, or 1
        where none of those inputs spans it (y = Tanh(a) beside z = a + b, a (1, 3)
        and b (5, 3): y is (1, 3), computed over the domain and cut at the end);
        after runtime broadcasting, the ``bdim`` of their actual dims.
        """
        last = self.g.rank - 1
        for o in self.g.outputs:
            deps, row_deps = self.deps(o.instr), self.deps(o.instr, last_axis=True)
            for k in range(self.out_rank(o)):
                mine = row_deps if k == last else deps
                spans = [(i, a) for i, a in self.contributors(k) if i in mine]
                if not runtime:
                    expr = self.dims[k] if spans else "1"
                else:
                    expr = "1"
                    for i, a in spans:
                        expr = f"bdim({self.ext[i]}.shape[{a}], {expr})"
                self.w.line(f"{self.p}o{o.instr}s{k} = {expr}")

    def emit_true_widths(self) -> None:
        """Each narrow reduction's operand width: the broadcast of the inputs it reads."""
        last = self.contributors(self.g.rank - 1)
        for k, var in self.widths.items():
            deps = self.arg_deps(self.g.instrs[k].args[0], last_axis=True)
            expr = "1"
            for i, ax in last:
                if i in deps:
                    expr = f"bdim({self.ext[i]}.shape[{ax}], {expr})"
            self.w.line(f"{var} = {expr}")

    def deps(self, k: int, last_axis: bool = False) -> set:
        """The exts instruction ``k`` reads. Along the last axis a reduction's value
        has width 1 whatever it reduced, so there the walk stops at reductions."""
        seen, todo, exts = set(), [k], set()
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            if last_axis and self.g.instrs[i].reduce:
                continue
            for a in self.g.instrs[i].args:
                if isinstance(a, ExtRef):
                    exts.add(a.index)
                elif isinstance(a, InstrRef):
                    todo.append(a.index)
        return exts

    def arg_deps(self, a, last_axis: bool = False) -> set:
        """The exts an instruction argument reads (see ``deps``)."""
        if isinstance(a, ExtRef):
            return {a.index}
        return self.deps(a.index, last_axis) if isinstance(a, InstrRef) else set()

    def out_rank(self, o) -> int:
        """Rank of the buffer the loops fill (full outputs fill the whole domain)."""
        return self.g.rank - (1 if o.kind is OutKind.DROP else 0)

    def lead(self, o) -> int:
        """Leading domain dims a lower-rank fused sub-value does not have."""
        return self.out_rank(o) - o.rank if o.rank >= 0 else 0

    @staticmethod
    def tuple_of(items) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    # -- values ---------------------------------------------------------------
    def arg(self, a) -> str:
        if isinstance(a, ConstRef):
            return a.name
        if isinstance(a, InstrRef):
            return f"{self.p}t{a.index}"
        e = self.g.exts[a.index]
        if e.rank == 0:
            return self.scalars[a.index]
        idx = []
        for ax in range(e.rank):
            k = self.g.rank - e.rank + ax
            idx.append("0" if e.shape[ax] == 1 else self.ivars[k])
        return f"{self.ext[a.index]}[{', '.join(idx)}]"

    def emit_instr(self, k: int) -> None:
        ins = self.g.instrs[k]
        if k in self.done:
            return
        self.done.add(k)
        args = [self.arg(a) for a in ins.args]
        if isinstance(ins.op, Reduce):      # identity: reduced axis has size 1 here
            expr = f"{ctor(ins.dtype)}({args[0]})"
        else:
            dts = [self.dtype_of(a) for a in ins.args]
            expr = scalar_expr(ins.op, args, dts, ins.dtype, self.ctx)
            if self.divides_by_row_value(ins, dts):
                expr = f"({args[0]} * ({self.ctx.const(1, ins.dtype)} / {args[1]}))"
        self.w.line(f"{self.p}t{k} = {expr}")

    def divides_by_row_value(self, ins, dts) -> bool:
        """Whether ``ins`` divides a float by a value the row's reductions computed
        (softmax's sum, layer norm's deviation): at fast-math >= 1 it multiplies
        by the reciprocal, which LLVM computes once per row (<= 1.5 ulp from the
        quotient; inf where the reduction is a denormal, as under arcp before). Not
        for constants or input columns, whose denormals are ordinary inputs."""
        return ins.op.name == "Div" and self.ctx.fastmath >= 1 and ins.level is Level.FULL \
            and np.dtype(ins.dtype).kind == "f" and all(np.dtype(d) == np.dtype(ins.dtype) for d in dts) \
            and self.g.level_of(ins.args[1]) is Level.ROW and self.from_reduction(ins.args[1])

    def from_reduction(self, a) -> bool:
        """Whether argument ``a`` is, or is computed from, a reduction of the group."""
        todo = [a]
        while todo:
            a = todo.pop()
            if isinstance(a, InstrRef):
                ins = self.g.instrs[a.index]
                if ins.reduce:
                    return True
                todo += ins.args
        return False

    def below_row_max(self, ins) -> bool:
        """Whether ``ins`` is ``x - max(x)`` over the row (softmax's shift) for an input
        ``x``: <= 0 or NaN. Not for a computed ``x``: contraction may fuse a product
        in it into the subtraction, whose unrounded result can be far above 0."""
        if ins.op.name != "Sub" or not isinstance(ins.args[1], InstrRef) or not isinstance(ins.args[0], ExtRef):
            return False
        m = self.g.instrs[ins.args[1].index]
        return m.reduce and m.op.name == "ReduceMax" and m.args[0] == ins.args[0] \
            and m.dtype == ins.dtype == self.dtype_of(ins.args[0])

    def dtype_of(self, a):
        return self.g.dtype_of(a)

    def operands(self, reds) -> list:
        """The instructions reductions ``reds`` read (not the inputs they read directly)."""
        return [self.g.instrs[k].args[0].index for k in reds if isinstance(self.g.instrs[k].args[0], InstrRef)]

    def closure(self, roots, stop=()) -> list:
        """Full-level instructions needed for ``roots``, in program order (not past ``stop``)."""
        need, todo = set(), list(roots)
        while todo:
            k = todo.pop()
            if k in need or k in stop or self.g.instrs[k].level is not Level.FULL:
                continue
            need.add(k)
            todo += [a.index for a in self.g.instrs[k].args if isinstance(a, InstrRef)]
        return sorted(need)

    # -- the nest ---------------------------------------------------------------
    def emit(self) -> None:
        if not self.g.outputs:      # nothing reads the group (dead code the passes left)
            self.w.line("pass")
            return
        self.emit_domain()
        for i, name in self.scalars.items():
            self.w.line(f"{name} = {self.ext[i]}[()]")
        self.emit_allocations()
        r = self.g.rank
        if r == 0:
            self.emit_row_body(outer=())
        else:
            self.emit_outer(0)
        self.emit_cutbacks()

    def out_shape(self, o) -> str:
        dims = self.dims if o.kind is OutKind.FULL else self.dims[:-1] + (["1"] if o.kind is OutKind.KEEP else [])
        return self.tuple_of(dims) if dims else "()"

    def emit_allocations(self) -> None:
        for o in self.g.outputs:
            name, shp = self.names[o.value], self.out_shape(o)
            dt = f"np.{np.dtype(self.g.instrs[o.instr].dtype).name}"
            if o.value in self.pools:
                pool = self.pools[o.value]
                self.w.line(f"{name} = {pool} if {pool}.shape == {shp} else np.empty({shp}, {dt})")
            elif o.alias is not None:
                self.w.line(f"{name} = {self.ext[o.alias]}  # overwrite the GEMM result in place")
            else:
                self.w.line(f"{name} = np.empty({shp}, {dt})")

    def loop_kw(self, k: int) -> str:
        r = self.g.rank
        if not self.parallel or k != 0:
            return "range"
        return "prange" if r >= 2 or not self.g.has_reductions else "range"

    def emit_outer(self, k: int) -> None:
        r = self.g.rank
        if k == 0 and r == 2 and self.pipelines():
            self.emit_pipelined_rows()
            return
        if k == r - 1:
            self.emit_row_body(outer=tuple(self.ivars[:-1]))
            return
        self.w.line(f"for {self.ivars[k]} in {self.loop_kw(k)}({self.dims[k]}):")
        with self.w.indent():
            self.emit_outer(k + 1)

    # -- rows pipelined: the next row's first pass inside this row's second ----
    def first_pass(self) -> list:
        g = self.g
        return [k for k, i in enumerate(g.instrs) if i.reduce and g.phase_of(i.args[0]) == 0]

    def pipelines(self) -> bool:
        """Whether the parallel row loop pipelines its rows.

        A row's first pass (softmax's max, layer norm's mean) reads only the
        inputs, so it waits on memory with nothing to compute. Per thread over a
        block of rows, the next row's first pass runs inside this row's second
        (W5, hand-written: 3.13 against 3.64 ms; ``benchmarks/w5_pipelining.py``).
        Only where that pass needs nothing but the inputs and constants.
        """
        g = self.g
        if self.loop_kw(0) != "prange" or self.widths or g.last_phase < 1 or not self.first_pass():
            return False
        if self.pick_stash(g.last_phase) is not None and g.last_phase < 2:
            return False                 # the stash would be stored by the first pass
        need = set(self.closure(self.operands(self.first_pass())))
        args = [a for k in need for a in g.instrs[k].args] + [g.instrs[k].args[0] for k in self.first_pass()]
        return all(not isinstance(a, InstrRef) or a.index in need for a in args)

    def emit_pipelined_rows(self) -> None:
        w, p, d0 = self.w, self.p, self.dims[0]
        first = self.first_pass()
        # blocks of rows, more than threads: each costs one unpipelined first pass
        # (1/128 of W5's rows); numba's get_num_threads would make the kernel uncacheable
        w.line(f"{p}nch = min({_ROW_BLOCKS}, {d0})")
        w.line(f"for {p}c in prange({p}nch):")
        with w.indent():
            w.line(f"{p}lo = ({p}c * {d0}) // {p}nch")
            w.line(f"{p}hi = (({p}c + 1) * {d0}) // {p}nch")
            w.line(f"i0 = {p}lo")
            self.done, self.stash = set(), None     # a stash is stored by a later pass
            for k in first:              # the block's first row: its first pass alone
                w.line(f"{p}a{k} = {self.init(k)}")
            self.emit_inner(0, first, [], 1)
            for k in first:
                w.line(f"{p}t{k} = {self.finish(k)}")
            w.line(f"for i0 in range({p}lo, {p}hi):")
            with w.indent():
                w.line(f"i0n = i0 + 1 if i0 + 1 < {p}hi else i0")
                self.emit_row_body(outer=("i0",), pipelined=True)
                for k in first:          # the next row's first pass is done
                    w.line(f"{p}t{k} = {p}n_t{k}")

    @contextmanager
    def next_row(self):
        """Emit for row ``i0n`` instead of ``i0``: its own temporaries (prefix ``<p>n_``)."""
        saved = self.p, self.ivars, self.done
        self.p, self.ivars, self.done = f"{saved[0]}n_", ["i0n", "j"], set()
        try:
            yield
        finally:
            self.p, self.ivars, self.done = saved

    def emit_next_first_pass(self) -> None:
        """Inside this row's second pass: the next row's first-pass updates."""
        first = self.first_pass()
        with self.next_row():
            for k in self.closure(self.operands(first)):
                self.emit_instr(k)
            for k in first:
                self.w.line(self.update(k))

    def emit_row_body(self, outer: tuple, pipelined: bool = False) -> None:
        g, w = self.g, self.w
        self.done = set()
        last = g.last_phase
        self.stash = self.pick_stash(last)
        first = self.first_pass() if pipelined else []
        for p in range(last + 1):
            self.emit_row_instrs(p)
            reds = [k for k, i in enumerate(g.instrs) if i.reduce and g.phase_of(i.args[0]) == p]
            if p == 0 and pipelined:     # computed by the previous row (or the block's prologue)
                self.done.update(reds)
                continue
            full_outs = [o for o in g.outputs if o.kind is OutKind.FULL] if p == last else []
            for k in reds:
                w.line(f"{self.p}a{k} = {self.init(k)}")
            nxt = pipelined and p == 1
            if nxt:
                with self.next_row():
                    for k in first:
                        w.line(f"{self.p}a{k} = {self.init(k)}")
            wide = [k for k in reds if k not in self.widths]
            if g.rank and (wide or full_outs or nxt):
                self.emit_inner(p, wide, full_outs, len(outer), extra=self.emit_next_first_pass if nxt else None)
            for k in reds:
                if k in self.widths:     # its own loop, over its operand's true width
                    self.emit_inner(p, [k], [], len(outer), bound=self.widths[k])
            for k in reds:
                self.done.add(k)
                w.line(f"{self.p}t{k} = {self.finish(k)}")
            if nxt:
                with self.next_row():
                    for k in first:
                        w.line(f"{self.p}t{k} = {self.finish(k)}")
        self.emit_row_instrs(last + 1)
        for o in g.outputs:
            if o.kind is not OutKind.FULL:
                idx = list(outer) + (["0"] if o.kind is OutKind.KEEP else [])
                w.line(f"{self.names[o.value]}[{', '.join(idx) if idx else '()'}] = {self.p}t{o.instr}")
            elif g.rank == 0:
                w.line(f"{self.names[o.value]}[()] = {self.p}t{o.instr}")

    def emit_row_instrs(self, p: int) -> None:
        for k, ins in enumerate(self.g.instrs):
            if ins.level is Level.ROW and not ins.reduce and ins.phase <= p:
                self.emit_instr(k)

    def blocked_sums(self, reds: list, kw: str, bound) -> list:
        """The float32 sums among ``reds`` that add up blocks (see ``SUM_BLOCK``): over a
        serial row loop whose length is not known to fit in one block."""
        last = self.g.shape[-1] if self.g.shape else None
        if kw != "range" or (bound is None and last is not None and last <= SUM_BLOCK):
            return []
        return [k for k in reds if sums_in_blocks(self.g.instrs[k].op, self.g.instrs[k].dtype)]

    def emit_inner(self, p: int, reds: list, full_outs: list, depth: int, bound: str = None,
                   extra=None) -> None:
        w = self.w
        kw = self.loop_kw(0) if self.g.rank == 1 else "range"
        n = bound or self.dims[-1]
        blocked = self.blocked_sums(reds, kw, bound)
        if not blocked:
            w.line(f"for j in {kw}({n}):")
            self.emit_inner_body(p, reds, full_outs, blocked, extra)
            return
        w.line(f"for jb in range(0, {n}, {SUM_BLOCK}):")
        with w.indent():
            for k in blocked:
                w.line(f"{self.p}b{k} = {self.init(k)}")
            w.line(f"for j in range(jb, min(jb + {SUM_BLOCK}, {n})):")
            self.emit_inner_body(p, reds, full_outs, blocked, extra)
            for k in blocked:
                w.line(f"{self.p}a{k} += {self.p}b{k}")

    def emit_inner_body(self, p: int, reds: list, full_outs: list, blocked: list, extra) -> None:
        w = self.w
        with w.indent():
            roots = self.operands(reds)
            roots += [o.instr for o in full_outs]
            saved = set(self.done)
            stop = ()
            if self.stash and full_outs:       # reuse the value stored by the previous pass
                e, o = self.stash
                stop = (e,)
                self.done.add(e)
                w.line(f"{self.p}t{e} = {self.names[o.value]}[{', '.join(self.ivars)}]")
            for k in self.closure(roots, stop):
                self.emit_instr(k)
            if self.stash and p == self.g.last_phase - 1:
                e, o = self.stash
                w.line(f"{self.names[o.value]}[{', '.join(self.ivars)}] = {self.p}t{e}")
            self.done = saved
            for k in reds:
                w.line(self.update(k, f"{self.p}b{k}" if k in blocked else None))
            for o in full_outs:
                w.line(f"{self.names[o.value]}[{', '.join(self.ivars)}] = {self.p}t{o.instr}")
            if extra is not None:
                extra()

    def pick_stash(self, last: int):
        """(instr, output): a costly value the last reduction pass computes and the
        final pass needs again (softmax's exp). The reduction pass stores it in the
        output row, the final pass reads it back instead of recomputing it."""
        g = self.g
        outs = [o for o in g.outputs if o.kind is OutKind.FULL]
        if (g.rank == 0 or last == 0 or len(outs) != 1 or outs[0].alias is not None or self.lead(outs[0])
                or self.widths):
            return None
        o = outs[0]
        reds = self.operands(k for k, i in enumerate(g.instrs) if i.reduce and g.phase_of(i.args[0]) == last - 1)
        shared = set(self.closure(reds)) & set(self.closure([o.instr])) - {o.instr}
        costly = {"Exp", "Tanh", "Sigmoid", "Log"}
        for e in sorted(shared, reverse=True):
            if g.instrs[e].dtype == g.instrs[o.instr].dtype and any(
                    g.instrs[k].op.name in costly for k in self.closure([e])):
                return e, o
        return None

    def init(self, k: int) -> str:
        ins = self.g.instrs[k]
        return accumulator_init(ins.op, ins.dtype, self.ctx)

    def update(self, k: int, acc: str = None) -> str:
        """Reduction ``k``'s accumulation of this element (into ``acc``, default its accumulator)."""
        ins = self.g.instrs[k]
        return accumulate(ins.op, ins.dtype, acc or f"{self.p}a{k}", self.arg(ins.args[0]))

    def finish(self, k: int) -> str:
        ins = self.g.instrs[k]
        return reduction_result(ins.op, ins.dtype, f"{self.p}a{k}", self.widths.get(k, self.dims[-1]))

    def emit_cutbacks(self) -> None:
        """After runtime broadcasting, outputs smaller than the domain are cut to their shape."""
        for o in self.g.outputs:
            n = self.out_rank(o)
            if not n:
                continue
            sizes = [f"{self.p}o{o.instr}s{k}" for k in range(n)]
            if o.kind is OutKind.KEEP:
                sizes[-1] = "1"
            lead = self.lead(o)
            name = self.names[o.value]
            if lead:
                self.w.line(f"{name} = np.ascontiguousarray({name}[{', '.join(['0'] * lead)}])")
                sizes = sizes[lead:]
            dims = self.dims[lead:]
            cond = " or ".join(f"{s} != {d}" for s, d in zip(sizes, dims) if s != "1")
            if not cond:
                continue
            self.w.line(f"if {cond}:")
            self.w.line(f"    {name} = np.ascontiguousarray({name}[{', '.join(':' + s for s in sizes)}])")
