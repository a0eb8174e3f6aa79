"""Generate the Python source of one segment: jitted kernels plus a thin wrapper.

The *module* (cached on disk, compiled by numba) holds one function per kernel
stage, in a serial and (optionally) a ``prange`` variant; the *wrapper* (plain
Python, exec'd in-process) unpacks the inputs, runs host steps with the ops'
NumPy references, picks the kernel variant by input size and returns the
graph outputs. Every IR line is a comment above the code it became, names
come from blob names, and the same graph always gives the same text.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ir.printer import format_node, value_labels
from netjit.compiler.ops import StatefulOp

from .emit_loops import GroupEmitter
from .groups import LoopGroup
from .kernel_plan import plan_kernel
from .lowerings import lower_stmt
from .options import NumbaOptions
from .pool import BufferPool
from .stages import is_free, split_stages
from .writer import Writer

HEADER = '''\
import math
import numpy as np
from numba import njit, prange
from netjit.backends.numba.mathlib import bdim, expand, fexp, fsigmoid, ftanh, imatmul
'''


@dataclass
class Generated:
    """What the backend needs to build an executable."""

    module_source: str
    wrapper_source: str
    kernels: list                          # kernel function names (serial variants)
    parallel_kernels: list                 # "" where a kernel has no parallel variant
    arg_types: list = field(default_factory=list)   # per kernel: (dtype, rank, readonly) per arg
    wrapper_globals: dict = field(default_factory=dict)
    ops: list = field(default_factory=list)   # "Op(name)" per node, for errors


class _Names:
    """Stable, readable identifiers for graph values."""

    def __init__(self, graph: Graph):
        self.map, used = {}, set()
        for v, label in value_labels(graph).items():
            base = re.sub(r"\W", "_", label.replace("~", "_v"))
            if not base or base[0].isdigit() or keyword.iskeyword(base):
                base = "v" + base
            name, k = base, 2
            while name in used:
                name, k = f"{base}_{k}", k + 1
            used.add(name)
            self.map[v] = name

    def __getitem__(self, v):
        return self.map[tuple(v)]


class _Consts:
    """Typed scalar globals of the module (``k0 = np.float32(0.5)``)."""

    def __init__(self, fastmath: int):
        self.fastmath = fastmath
        self.globals: dict = {}        # (dtype, repr) -> name
        self.values: dict = {}         # name -> python value

    def const(self, value, dtype) -> str:
        dt = np.dtype(dtype)
        v = dt.type(value).item()
        key = (dt.name, repr(v))
        if key not in self.globals:
            name = f"k{len(self.globals)}"
            self.globals[key] = name
            self.values[name] = v
        return self.globals[key]

    def literal_of(self, arg: str):
        return self.values.get(arg)

    def lines(self) -> list:
        out = []
        for (dt, text), name in self.globals.items():
            text = {"inf": "np.inf", "-inf": "-np.inf", "nan": "np.nan"}.get(text, text)
            ctor = "np.bool_" if dt == "bool" else f"np.{dt}"
            out.append(f"{name} = {ctor}({text})")
        return out


def generate(graph: Graph, options: NumbaOptions) -> Generated:
    """The module and wrapper source of ``graph`` (a segment whose inputs are placeholders)."""
    return _Generator(graph, options).run()


class _Generator:
    def __init__(self, graph: Graph, options: NumbaOptions):
        self.graph, self.opt = graph, options
        self.names = _Names(graph)
        self.labels = value_labels(graph)
        self.consts = _Consts(options.fastmath)
        self.stages = split_stages(graph)
        self.kernel_of: dict = {}              # node -> stage position
        for pos, st in enumerate(self.stages):
            for n in st.nodes:
                self.kernel_of[n] = pos
        self.module = Writer()
        self.wrapper = Writer(1)
        self.wglobals: dict = {}
        self.kernels, self.par_kernels, self.arg_types = [], [], []

    # -- values ---------------------------------------------------------------
    def scalar_const(self, v, out_rank):
        n = v[0]
        if not is_free(self.graph, n):
            return None
        arr = self.graph.op(n).value.array
        if arr.dtype == object or arr.size != 1 or arr.ndim > out_rank:
            return None
        name = self.consts.const(arr.reshape(()).item(), arr.dtype)
        return name, arr.dtype.type(self.consts.values[name])

    def produced_in(self, v) -> int:
        n = v[0]
        return -1 if (n in self.graph.inputs or is_free(self.graph, n)) else self.kernel_of[n]

    def needed_after(self, v, pos: int) -> bool:
        if tuple(v) in [tuple(o) for o in self.graph.outputs]:
            return True
        return any(self.kernel_of.get(w, -1) != pos for w, _ in self.graph.users(v))

    def comment(self, w: Writer, n: int) -> None:
        w.comment(format_node(self.graph, n, self.labels))

    # -- driver -----------------------------------------------------------------
    def run(self) -> Generated:
        g = self.graph
        self.wrapper.line("if len(inputs) != %d:" % len(g.inputs))
        self.wrapper.line("    raise bad_arity(len(inputs))")
        ins = [self.names[(n, 0)] for n in g.inputs]
        if ins:
            self.wrapper.line(f"{', '.join(ins)}{',' if len(ins) == 1 else ''} = inputs")
        for n in g.nodes():
            if is_free(g, n):
                self.wglobals[self.names[(n, 0)]] = g.op(n).value.array
        for pos, st in enumerate(self.stages):
            if st.kind == "host":
                self.host_stage(st, pos)
            else:
                self.kernel_stage(st, pos)
        outs = [self.names[v] for v in g.outputs]
        self.wrapper.line(f"return [{', '.join(outs)}]")
        body = ["    try:"] + ["    " + ln if ln else ln for ln in self.wrapper.lines] + [
            "    except RUNTIME_ERRORS as exc:", "        raise runtime_error(exc) from exc"]
        module = "\n".join([f"# netjit segment {g.name!r}: generated by the numba backend; do not edit",
                            HEADER] + self.consts.lines() + ["", ""]) + self.module.text()
        wrapper = "def run(inputs, state=None):\n" + "\n".join(body) + "\n"
        ops = [f"{g.op(n).name}({self.labels[(n, 0)] if g.types(n) else n})" for n in g.nodes()
               if n not in g.inputs]
        return Generated(module, wrapper, self.kernels, self.par_kernels, self.arg_types, self.wglobals, ops)

    def host_stage(self, st, pos) -> None:
        w, g = self.wrapper, self.graph
        if any(isinstance(g.op(n), StatefulOp) for n in st.nodes):
            w.line("if state is None:")
            w.line("    state = DictStateStore()")
        for n in st.nodes:
            self.comment(w, n)
            op_name = f"OP_{n}"
            self.wglobals[op_name] = g.op(n)
            args = ", ".join(self.names[v] for v in g.inputs_of(n))
            call = (f"{op_name}.reference_stateful(state{', ' if args else ''}{args})"
                    if isinstance(g.op(n), StatefulOp)
                    else f"{op_name}.reference({args})")
            outs = [self.names[(n, k)] for k in range(len(g.types(n)))]
            label = f"{g.op(n).name} {self.labels[(n, 0)]!r}"
            w.line(f"{', '.join(outs)}{',' if len(outs) == 1 else ''} = host_call({label!r}, lambda: {call})"
                   if outs else f"host_call({label!r}, lambda: {call})")

    # -- kernels ----------------------------------------------------------------
    def kernel_stage(self, st, pos) -> None:
        g = self.graph
        items = plan_kernel(g, st.nodes, self.scalar_const, lambda v: self.needed_after(v, pos))
        args = self.kernel_args(items, pos)
        results = [v for n in st.nodes for v in ((n, k) for k in range(len(g.types(n))))
                   if self.needed_after(v, pos)]
        pooled = [o.value for it in items if isinstance(it, LoopGroup) for o in it.outputs
                  if o.kind == "full" and o.value in set(map(tuple, g.outputs))]
        name = f"{_ident(g.name)}_k{pos}"
        self.kernels.append(name)
        self.arg_types.append([(np.dtype(g.type(v).dtype), g.type(v).rank, is_free(g, v[0])) for v in args])
        self.emit_kernel(name, items, args, results, parallel=False, pools={})
        par = ""
        if self.opt.parallel:
            par = name + "_parallel"
            pools = {v: f"pool_{self.names[v]}" for v in pooled}
            self.emit_kernel(par, items, args, results, parallel=True, pools=pools)
        self.par_kernels.append(par)
        self.kernel_call(name, par, args, results, pooled)

    def kernel_args(self, items, pos) -> list:
        g, seen, out = self.graph, set(), []
        for it in items:
            vals = [e.value for e in it.exts] if isinstance(it, LoopGroup) else g.inputs_of(it)
            for v in vals:
                v = tuple(v)
                if self.produced_in(v) != pos and v not in seen:
                    seen.add(v)
                    out.append(v)
        return out

    def emit_kernel(self, name, items, args, results, parallel: bool, pools: dict) -> None:
        m, g = self.module, self.graph
        flags = self.opt.numba_flags(parallel)
        m.line(f"@njit({flags})")
        params = [self.names[v] for v in args] + list(pools.values())
        m.line(f"def {name}({', '.join(params)}):")
        with m.indent():
            for gid, it in enumerate(items):
                if isinstance(it, LoopGroup):
                    for n in it.nodes:
                        self.comment(m, n)
                    GroupEmitter(m, it, gid, self.names, self.consts, parallel, pools, g).emit()
                else:
                    self.comment(m, it)
                    ins = [self.names[v] for v in g.inputs_of(it)]
                    outs = [self.names[(it, k)] for k in range(len(g.types(it)))]
                    lower_stmt(g.op(it), m, ins, outs, [g.type(v) for v in g.inputs_of(it)],
                               list(g.types(it)))
            names = [self.names[v] for v in results]
            m.line(f"return {names[0]}" if len(names) == 1 else
                   f"return ({', '.join(names)})" if names else "return None")
        m.line()
        m.line()

    def kernel_call(self, name, par, args, results, pooled) -> None:
        w = self.wrapper
        arg_names = [self.names[v] for v in args]
        outs = [self.names[v] for v in results]
        lhs = outs[0] if len(outs) == 1 else ("_r" if not outs else ", ".join(outs) + ("," if len(outs) == 1 else ""))
        sizes = [self.names[v] for v in args if not is_free(self.graph, v[0])]
        serial = f"{lhs} = {name}({', '.join(arg_names)})"
        if not (par and sizes):
            w.line(serial)
            return
        w.line(f"if {' + '.join(s + '.size' for s in sizes)} >= PARALLEL_MIN_SIZE:")
        with w.indent():
            pools = [f"pool_{self.names[v]}" for v in pooled]
            for v, p in zip(pooled, pools):
                self.wglobals[f"POOL_{self.names[v]}"] = BufferPool(self.graph.type(v))
                w.line(f"{p} = POOL_{self.names[v]}.take()")
            w.line(f"{lhs} = {par}({', '.join(arg_names + pools)})")
            for v in pooled:
                w.line(f"POOL_{self.names[v]}.give({self.names[v]})")
        w.line("else:")
        w.line("    " + serial)


def _ident(name: str) -> str:
    s = re.sub(r"\W", "_", name) or "segment"
    return ("s" + s) if s[0].isdigit() else s
