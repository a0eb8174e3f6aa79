"""Generate the Python source of one segment: jitted kernels plus a thin wrapper.

The *module* (cached on disk, compiled by numba) holds one function per kernel
stage, in a serial and (optionally) a ``prange`` variant; the *wrapper* (plain
Python, exec'd in-process) unpacks the inputs, runs host steps with the ops'
NumPy references, picks the kernel variant by input size and returns the
graph outputs. Every IR line is a comment above the code it became, names
come from blob names, and the same graph always gives the same text.
"""
from __future__ import annotations

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ir.printer import format_node, value_labels
from netjit.compiler.ops import StatefulOp

from . import blas
from .generated import MODULE_HEADER, Generated
from .groups import ConstRef, LoopGroup, OutKind
from .kernel_plan import plan_kernel
from .loop_printer import print_group
from .lowering import lower_stmt
from .module_consts import ModuleConsts
from .options import NumbaOptions
from .pool import BufferPool
from .stages import is_free, split_stages
from .value_names import ValueNames
from .writer import Writer

#: only modules that multiply packed weights import their helpers (which start numba's threads)
PACKED_HEADER = "from netjit.backends.numba.packed_gemm import psgemm, psgemm_bias\n"
HEADER = '''\
import math
import numpy as np
from numba import njit, prange
from netjit.backends.numba.mathlib import (add_ieee, bdim, expand, fexp, fexp_capped, fmaximum,
                                           fminimum, fsigmoid, ftanh, imatmul, radd)
''' + ("from netjit.backends.numba.blas import dgemm, sgemm\n" if blas.AVAILABLE else "")


def generate(graph: Graph, options: NumbaOptions) -> Generated:
    """The module and wrapper source of ``graph`` (a segment whose inputs are placeholders)."""
    return _Generator(graph, options).run()


class _Generator:
    def __init__(self, graph: Graph, options: NumbaOptions):
        self.graph, self.opt = graph, options
        self.names = ValueNames(graph)
        self.labels = value_labels(graph)                 # readable, for messages
        self.canon = self.names.canonical_labels()       # for comments in keyed code
        self.consts = ModuleConsts(options.fastmath)
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
    def scalar_const(self, v, out_rank: int):
        """A one-element constant ``v`` as a module global, if a loop may inline it."""
        n = v[0]
        if not is_free(self.graph, n):
            return None
        arr = self.graph.op(n).value.array
        if arr.dtype == object or arr.size != 1 or arr.ndim > out_rank:
            return None
        name = self.consts.const(arr.reshape(()).item(), arr.dtype)
        return ConstRef(name, arr.dtype.type(self.consts.values[name]))

    def produced_in(self, v) -> int:
        n = v[0]
        return -1 if (n in self.graph.inputs or is_free(self.graph, n)) else self.kernel_of[n]

    def needed_after(self, v, pos: int) -> bool:
        if tuple(v) in [tuple(o) for o in self.graph.outputs]:
            return True
        return any(self.kernel_of.get(w, -1) != pos for w, _ in self.graph.users(v))

    def comment(self, w: Writer, n: int) -> None:
        w.comment(format_node(self.graph, n, self.canon))

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
            "    except NETJIT_ERRORS:", "        raise",
            "    except RUNTIME_ERRORS as exc:", "        raise runtime_error(exc, inputs, state) from exc"]
        header = HEADER + (PACKED_HEADER if any(g.op(n).name == "PackedMatMul" for n in g.nodes()) else "")
        # a float reduction adds through acc_add: reassociating (vectorised) from level 1
        acc = f"acc_add = {'radd' if self.opt.fastmath >= 1 else 'add_ieee'}"
        module = "\n".join([MODULE_HEADER, header, acc] + self.consts.lines() + ["", ""]) + self.module.text()
        wrapper = "def run(inputs, state=None):\n" + "\n".join(body) + "\n"
        ops = [f"{g.op(n).name}({self.labels[(n, 0)] if g.types(n) else n})" for n in g.nodes()
               if n not in g.inputs]
        return Generated(module, wrapper, self.kernels, self.par_kernels, self.arg_types, self.wglobals, ops,
                         g.name, self.names.readable, self.names.labels)

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
        # a pool holds domain-shaped buffers: an output of lower rank (cut from its
        # domain-shaped buffer at the end) has none, or the buffer's type would not unify
        pooled = [o.value for it in items if isinstance(it, LoopGroup) for o in it.outputs
                  if o.kind is OutKind.FULL and o.value in set(map(tuple, g.outputs))
                  and g.type(o.value).rank == it.rank]
        name = f"kernel{pos}"
        self.kernels.append(name)
        self.arg_types.append([(np.dtype(g.type(v).dtype), g.type(v).rank, is_free(g, v[0])) for v in args])
        self.emit_kernel(name, items, args, results, parallel=False, pools={})
        par = ""
        # statements alone (a product, a reshape) have no loop for prange: numba would warn
        loops = any(isinstance(it, LoopGroup) and it.rank > 0 for it in items)
        if self.opt.parallel and loops and not self.always_small(args):
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

    def always_small(self, args) -> bool:
        """True when static shapes keep every call under the parallel threshold
        (``kernel_call``'s size test would always pick the serial kernel)."""
        types = [self.graph.type(v) for v in args if not is_free(self.graph, v[0])]
        return all(t.is_static for t in types) and \
            sum(int(np.prod(t.shape)) for t in types) < self.opt.parallel_min_size

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
                    print_group(m, it, gid, self.names, self.consts, parallel, pools)
                else:
                    self.comment(m, it)
                    ins = [self.names[v] for v in g.inputs_of(it)]
                    outs = [self.names[(it, k)] for k in range(len(g.types(it)))]
                    in_types, out_types = [g.type(v) for v in g.inputs_of(it)], list(g.types(it))
                    if any(t.rank is None for t in in_types + out_types):
                        # a Python op's output: typed code needs ranks (the segment goes to the host)
                        raise NotImplementedError(f"{g.op(it).name} has a value of unknown rank")
                    lower_stmt(g.op(it), m, ins, outs, in_types, out_types)
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
        # the gate comes last: it is only asked (and, under workqueue, held) for a parallel call
        w.line(f"if THREADS.ok and {' + '.join(s + '.size' for s in sizes)} >= PARALLEL_MIN_SIZE"
               " and THREADS.gate.acquire(False):")
        with w.indent():
            w.line("try:")
            with w.indent():
                pools = [f"pool_{self.names[v]}" for v in pooled]
                for v, p in zip(pooled, pools):
                    self.wglobals[f"POOL_{self.names[v]}"] = BufferPool(self.graph.type(v))
                    w.line(f"{p} = POOL_{self.names[v]}.take()")
                w.line(f"{lhs} = {par}({', '.join(arg_names + pools)})")
                for v in pooled:
                    w.line(f"POOL_{self.names[v]}.give({self.names[v]})")
            w.line("finally:")
            w.line("    THREADS.gate.release()")
        w.line("else:")
        w.line("    " + serial)
