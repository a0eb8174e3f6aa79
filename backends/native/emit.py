"""One LLVM IR function per elementwise segment, vectorised by construction.

The function is ``void <symbol>(i64 start, i64 stop, ptr f32_table, ptr f64_table,
ptr arg0, ..., ptr out0, ...)`` and computes elements ``[start, stop)`` of every
output; the tables hold its float constants (``vmath.ConstTable``). A *full* argument
holds one element per output element (same shape, C order); a *uniform* one
holds a single element, loaded once and splatted. The loop body is emitted
once, in an internal function over ``<W x T>`` vectors: the main loop calls
it on W elements at a time, the tail copies the last ``< W`` elements
through stack vectors and calls it once more. LLVM's loop vectoriser is off:
its cost grows with the square of the loop body (a 100-tanh chain spent 0.5 s
in it), while vector IR written here compiles in a fraction of that.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from netjit.compiler.ir import Graph
from netjit.compiler.ops import Const, FusedElementwise, Placeholder

from . import vmath
from .layout import Layout
from .lower import Ctx, convert, emit_scalar_op, ir_type

I64 = ir.IntType(64)
I32 = ir.IntType(32)
#: vectors per main-loop iteration (independent work for the out-of-order core;
#: W1 measured the same with 1, 2 and 4)
UNROLL = 2


def emit(graph: Graph, layout: Layout, fastmath: int, consts: dict, symbol: str) -> tuple:
    """``(ir_text, tables)``: the IR module of ``graph`` as function ``symbol`` and the
    float32 and float64 constant tables it reads (``vmath.ConstTable``); ``consts``
    maps each Const node to its value (see ``eligibility.native_layout``)."""
    lanes = layout.lanes
    mod = ir.Module("netjit_segment")
    tables = [ir.FloatType().as_pointer(), ir.DoubleType().as_pointer()]
    ptr_args = [ir_type(a.dtype, 1).element.as_pointer() for a in layout.args]
    out_ptrs = [ir_type(d, 1).element.as_pointer() for d in layout.out_dtypes]
    fn = ir.Function(mod, ir.FunctionType(ir.VoidType(), [I64, I64] + tables + ptr_args + out_ptrs), symbol)
    for a in fn.args[2:]:
        a.add_attribute("noalias")
    _name_args(fn.args, layout, ["start", "stop"])
    vec_types = [ir_type(a.dtype, lanes) for a in layout.args]
    out_vec = [ir_type(d, lanes) for d in layout.out_dtypes]
    body, table = _emit_body(mod, graph, layout, fastmath, consts, tables, vec_types, out_vec)
    _emit_driver(fn, body, layout, vec_types, out_vec)
    return str(mod), table.arrays()


def _emit_body(mod, graph, layout, fastmath, consts, tables, vec_types, out_vec):
    """``void body(tables..., <W x T> args..., ptr outs...)``: the graph over one
    vector of elements; returns it and its constant table."""
    lanes = layout.lanes
    fnty = ir.FunctionType(ir.VoidType(), tables + vec_types + [t.as_pointer() for t in out_vec])
    body = ir.Function(mod, fnty, "body")
    body.linkage = "internal"
    _name_args(body.args, layout, [])
    b = ir.IRBuilder(body.append_basic_block("entry"))
    b.consts = table = vmath.ConstTable(*body.args[:2])
    vec_args = body.args[2:]
    ctx = Ctx(lanes=lanes, fastmath=fastmath)
    values: dict = {}               # (node, port) -> (ir value, dtype)
    arg_of = {}
    for i, a in enumerate(layout.args):
        arg_of[("input", a.input) if a.input >= 0 else ("const", id(a.const))] = vec_args[i]
    order = graph.nodes()
    label = {n: f"%v{i}" for i, n in enumerate(order)}      # node ids, not blob names: the text is cached
    for n in order:
        op = graph.op(n)
        dtypes = [t.dtype for t in graph.types(n)]
        if isinstance(op, Placeholder):
            values[(n, 0)] = (arg_of[("input", graph.inputs.index(n))], dtypes[0])
        elif isinstance(op, Const):
            values[(n, 0)] = _const_value(b, ctx, consts[n], arg_of, dtypes[0], lanes)
        else:
            ins = [values[v] for v in graph.inputs_of(n)]
            detail = f"  # {op.describe()}" if isinstance(op, FusedElementwise) else ""
            b.comment(f"{label[n]} = {op.name}({', '.join(label[u] for u, _ in graph.inputs_of(n))}){detail}")
            outs = _lower_node(b, op, ins, dtypes, ctx, layout.program_dtypes.get(n))
            for port, v in enumerate(outs):
                values[(n, port)] = (v, dtypes[port])
    for j, v in enumerate(graph.outputs):
        val, dt = values[v]
        b.store(convert(b, val, dt, layout.out_dtypes[j], lanes), vec_args[len(vec_types) + j],
                align=np.dtype(layout.out_dtypes[j]).itemsize)
    b.ret_void()
    return body, table


def _name_args(args, layout: Layout, head: list) -> None:
    """Readable parameter names: the range, the constant tables, the inputs, the outputs."""
    names = head + ["consts32", "consts64"]
    names += [f"in{a.input}" if a.input >= 0 else f"const{k}" for k, a in enumerate(layout.args)]
    names += [f"out{j}" for j in range(len(layout.out_dtypes))]
    for arg, name in zip(args, names):
        arg.name = name


def _const_value(b, ctx, const, arg_of, dtype, lanes):
    """A Const node's vector: baked in when uniform, else the argument holding it."""
    if isinstance(const, np.ndarray):
        return arg_of[("const", id(const))], dtype
    ty = ir_type(dtype, lanes)
    if dtype == np.bool_:
        v = ir.Constant(ty, [ir.Constant(ty.element, int(bool(const)))] * lanes)
    else:
        v = vmath.fconst(b, ty, float(const))
        ctx.literals[id(v)] = float(const)
    return v, dtype


def _lower_node(b, op, ins, out_dtypes, ctx, program_dtypes):
    if not isinstance(op, FusedElementwise):
        return [emit_scalar_op(op, b, [v for v, _ in ins], [d for _, d in ins], out_dtypes[0], ctx)]
    vals = [v for v, _ in ins]
    for i, (inner, refs) in enumerate(op.program):
        vals.append(emit_scalar_op(inner, b, [vals[r] for r in refs], [program_dtypes[r] for r in refs],
                          program_dtypes[op.n_inputs + i], ctx))
    return [vals[r] for r in op.outputs]


def _emit_driver(fn, body, layout, vec_types, out_vec):
    """The loops over ``[start, stop)``: UNROLL vectors at a time, then single
    vectors, then one padded tail vector."""
    lanes = layout.lanes
    start, stop = fn.args[:2]
    tables = list(fn.args[2:4])
    args = fn.args[4:4 + len(layout.args)]
    outs = fn.args[4 + len(layout.args):]
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    # tail buffers first, in the entry block, so they are promoted to registers
    in_bufs = [b.alloca(t) for t in vec_types]
    out_bufs = [b.alloca(t) for t in out_vec]
    uniform = [vmath.broadcast(b, b.load(p), t) if a.uniform else None
               for a, p, t in zip(layout.args, args, vec_types)]
    length = b.sub(stop, start)
    n_unrolled = b.add(start, b.and_(length, ir.Constant(I64, -lanes * UNROLL)))
    n_full = b.add(start, b.and_(length, ir.Constant(I64, -lanes)))

    def call_at(i):
        loaded = [u if u is not None else b.load(_vec_ptr(b, p, i, t), align=a.dtype.itemsize)
                  for a, u, p, t in zip(layout.args, uniform, args, vec_types)]
        b.call(body, tables + loaded + [_vec_ptr(b, p, i, t) for p, t in zip(outs, out_vec)])

    _loop(fn, b, start, n_unrolled, lanes, UNROLL, call_at)
    _loop(fn, b, n_unrolled, n_full, lanes, 1, call_at)

    tail, done = fn.append_basic_block("tail"), fn.append_basic_block("done")
    b.cbranch(b.icmp_signed("<", n_full, stop), tail, done)
    b.position_at_end(tail)
    full_in = [(p, buf) for a, p, buf in zip(layout.args, args, in_bufs) if not a.uniform]
    for buf, t in zip(in_bufs, vec_types):
        b.store(ir.Constant(t, None), buf)       # defined lanes past the end (zeros)
    _copy_elements(fn, b, n_full, stop, [(p, buf, "in") for p, buf in full_in])
    loaded = [u if u is not None else b.load(buf) for u, buf in zip(uniform, in_bufs)]
    b.call(body, tables + loaded + out_bufs)
    _copy_elements(fn, b, n_full, stop, [(p, buf, "out") for p, buf in zip(outs, out_bufs)])
    b.branch(done)
    b.position_at_end(done)
    b.ret_void()


def _loop(fn, b, lo, hi, lanes, unroll, call_at):
    """``for i in range(lo, hi, lanes * unroll)``, calling ``call_at`` for each vector;
    the builder ends positioned after the loop."""
    head = b.block
    loop, after = fn.append_basic_block("loop"), fn.append_basic_block("after_loop")
    b.cbranch(b.icmp_signed("<", lo, hi), loop, after)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(lo, head)
    for k in range(unroll):
        call_at(b.add(i, ir.Constant(I64, k * lanes), flags=("nsw",)) if k else i)
    i_next = b.add(i, ir.Constant(I64, lanes * unroll), flags=("nsw",))
    i.add_incoming(i_next, b.block)
    b.cbranch(b.icmp_signed("<", i_next, hi), loop, after)
    b.position_at_end(after)


def _vec_ptr(b, ptr, i, vec_type):
    return b.bitcast(b.gep(ptr, [i], inbounds=True), vec_type.as_pointer())


def _copy_elements(fn, b, lo, hi, pairs):
    """Copy elements ``[lo, hi)`` between arrays and lanes ``[0, hi - lo)`` of stack vectors."""
    if not pairs:
        return
    head = b.block
    loop, done = fn.append_basic_block("copy"), fn.append_basic_block("copied")
    b.branch(loop)
    b.position_at_end(loop)
    k = b.phi(I64)
    k.add_incoming(lo, head)
    lane = b.sub(k, lo)
    for ptr, buf, direction in pairs:
        elem = b.gep(b.bitcast(buf, ptr.type), [lane], inbounds=True)
        arr = b.gep(ptr, [k], inbounds=True)
        src, dst = (arr, elem) if direction == "in" else (elem, arr)
        b.store(b.load(src), dst)
    k_next = b.add(k, ir.Constant(I64, 1))
    k.add_incoming(k_next, loop)
    b.cbranch(b.icmp_signed("<", k_next, hi), loop, done)
    b.position_at_end(done)
