"""ONNX converters of If, Loop and Scan with tensor-only bodies (ops in ``ops.control_flow``).

A body GraphProto is imported into its own Net with the same converters:
its formal inputs become Placeholders (element type declared, or the outer
value's; dims dynamic, rank kept, so nothing folds from a shape the body may
not keep), its initializers constants. Names it reads from the outer scope
(at any depth of nesting) become Placeholders too and extra explicit inputs
of the op, unless the outer value is a known constant, which is copied in.
The net is then resolved to SSA as a ``Body``.

An If whose condition is a known constant is replaced by the taken branch's
nodes, converted inline (when none of its names is already taken).
Bodies using sequences, optionals or maps are refused (``ctx.unsupported``).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from netjit.errors import UnimplementedError

from ... import ops as O
from ...ops.control_flow import Body
from ..net import Net
from .converters import NodeContext, onnx_op
from .importer import convert_node
from .proto import Budget, onnx_dtype, tensor_value

_NON_TENSOR_OPS = ("Sequence", "Optional", "SplitToSequence", "ConcatFromSequence", "ReverseSequence_",
                   "MapTo", "ZipMap", "CastMap", "DictVectorizer")


def _subgraphs(node):
    for a in node.attribute:
        if a.type == 5:          # GRAPH
            yield a.g
        for g in a.graphs:
            yield g


def _free_names(graph) -> list[str]:
    """Names the graph (or a nested body) reads that it does not define, in first-use order."""
    defined = {vi.name for vi in graph.input} | {t.name for t in graph.initializer}
    free: dict[str, None] = {}
    for node in graph.node:
        for name in node.input:
            if name and name not in defined:
                free[name] = None
        for g in _subgraphs(node):
            for name in _free_names(g):
                if name not in defined:
                    free[name] = None
        defined.update(o for o in node.output if o)
    for vi in graph.output:
        if vi.name not in defined:
            free[vi.name] = None
    return list(free)


def _check_tensor_only(ctx: NodeContext, graph) -> None:
    for node in graph.node:
        if node.op_type.startswith(_NON_TENSOR_OPS):
            raise ctx.unsupported(f"its body uses {node.op_type} (sequences, optionals and maps are not supported)")
        for g in _subgraphs(node):
            _check_tensor_only(ctx, g)
    for vi in [*graph.input, *graph.output]:
        kind = vi.type.WhichOneof("value")
        if kind not in (None, "tensor_type"):
            raise ctx.unsupported(f"body value {vi.name!r} is a {kind}; only tensors are supported")


def _input_type(ctx: NodeContext, vi, fallback: Optional[O.TensorType]) -> O.TensorType:
    """A body input's type: declared dtype (else the fallback's), rank kept, dims dynamic."""
    tt = vi.type.tensor_type if vi.type.WhichOneof("value") == "tensor_type" else None
    if tt is not None and tt.elem_type:
        dtype = onnx_dtype(tt.elem_type, f"{ctx.name} body input {vi.name!r}")
        rank = len(tt.shape.dim) if tt.HasField("shape") else None
    elif fallback is not None:
        dtype, rank = fallback.dtype, (None if fallback.shape is None else len(fallback.shape))
    else:
        raise ctx.unsupported(f"body input {vi.name!r} has no declared element type")
    if rank is None and fallback is not None and fallback.shape is not None:
        rank = len(fallback.shape)
    return O.TensorType(dtype, None if rank is None else (None,) * rank)


def import_body(ctx: NodeContext, graph, fallbacks, outer: list[str]) -> Body:
    """``graph`` as a Body over (formal inputs, then the ``outer`` names)."""
    _check_tensor_only(ctx, graph)
    sub = Net(f"{ctx.name}/{graph.name or 'body'}")
    consts: dict[str, np.ndarray] = {}
    env: dict[str, int] = {}
    types = []
    if len(graph.input) != len(fallbacks):
        raise ctx.unsupported(f"its body takes {len(graph.input)} inputs, expected {len(fallbacks)}")
    for vi, fb in zip(graph.input, fallbacks):
        t = _input_type(ctx, vi, fb)
        sub.Placeholder(vi.name, t.dtype, t.shape)
        env[vi.name] = len(types)
        types.append(t)
    defined = {vi.name for vi in graph.input}
    for name in outer:
        if name in defined:
            raise ctx.unsupported(f"body input {name!r} shadows an outer value it also reads")
        t = ctx.net.blob_type(name)
        if t is None:
            raise ctx.unsupported(f"outer value {name!r} the body reads has no known type")
        sub.Placeholder(name, t.dtype, t.shape)
        env[name] = len(types)
        types.append(t)
    free = set(_free_names(graph))
    for name in free:
        if name in ctx.consts and name not in env:
            NodeContext(sub, None, ctx.opset, consts, {}).set_const(name, ctx.consts[name])
    budget = Budget()
    for t in graph.initializer:
        NodeContext(sub, None, ctx.opset, consts, {}).set_const(
            t.name, tensor_value(t, f"{ctx.name} body initializer {t.name!r}", None, budget))
    for node in graph.node:
        convert_node(sub, node, {"": ctx.opset}, consts, None, budget)
    nodes, count = [], len(types)
    for d in sub.ops:
        if d.type == "Placeholder":
            continue
        if d.op is None or d.op.stateful or d.op.host:
            raise ctx.unsupported(f"its body holds {d.type}, which a body cannot run")
        try:
            ins = tuple(env[b] for b in d.inputs)
        except KeyError as exc:
            raise ctx.unsupported(f"its body reads {exc.args[0]!r}, which nothing defines") from None
        nodes.append((d.op, ins))
        for j, o in enumerate(d.outputs):
            env[o] = count + j
        count += d.op.num_outputs
    try:
        outs = tuple(env[vi.name] for vi in graph.output)
    except KeyError as exc:
        raise ctx.unsupported(f"its body output {exc.args[0]!r} is not produced") from None
    return Body(tuple(types), tuple(nodes), outs)


def _outer_inputs(ctx: NodeContext, *graphs) -> list[str]:
    """Outer names the bodies read that are not known constants (they become op inputs)."""
    names: dict[str, None] = {}
    for g in graphs:
        for name in _free_names(g):
            if name in ctx.consts:
                continue
            if not ctx.net.has_blob(name):
                raise ctx.unsupported(f"its body reads {name!r}, which no outer node defines")
            names[name] = None
    return list(names)


def _scalar_type(dtype) -> O.TensorType:
    return O.TensorType(np.dtype(dtype), ())


@onnx_op("If")
def if_(ctx: NodeContext) -> None:
    then_g, else_g = ctx.attr("then_branch"), ctx.attr("else_branch")
    cond = ctx.const(0)
    if cond is not None and cond.size == 1 and _fold_branch(ctx, then_g if bool(cond.reshape(())) else else_g):
        return
    outer = _outer_inputs(ctx, then_g, else_g)
    then_b, else_b = import_body(ctx, then_g, [], outer), import_body(ctx, else_g, [], outer)
    outs = [o for o in ctx.node.output]
    if len(then_b.outputs) != len(outs) or len(else_b.outputs) != len(outs):
        raise ctx.unsupported("its branches do not return one value per output")
    try:
        op = O.get_op("If")(then_b, else_b)
        op.infer(ctx.type(0), *(ctx.net.blob_type(n) for n in outer))
    except O.InferError as exc:
        raise ctx.unsupported(f"its branches do not agree: {exc}") from None
    ctx.emit(op, [ctx.input(0), *outer], [o or ctx.fresh("unused") for o in outs])


def _fold_branch(ctx: NodeContext, graph) -> bool:
    """Convert the taken branch inline; False (nothing done) when a name it defines is taken."""
    _check_tensor_only(ctx, graph)
    defined = [t.name for t in graph.initializer] + [o for n in graph.node for o in n.output if o]
    if any(ctx.net.has_blob(n) for n in defined) or any(o in defined for o in ctx.node.output):
        return False
    budget = Budget()
    for t in graph.initializer:
        ctx.set_const(t.name, tensor_value(t, f"{ctx.name} branch initializer {t.name!r}", None, budget))
    for node in graph.node:
        convert_node(ctx.net, node, {"": ctx.opset}, ctx.consts, None, budget)
    if len(graph.output) != len(ctx.node.output):
        raise ctx.unsupported("its branch does not return one value per output")
    for vi, out in zip(graph.output, ctx.node.output):
        if out:
            ctx.emit(O.Copy(), [vi.name], [out])
    return True


@onnx_op("Loop")
def loop(ctx: NodeContext) -> None:
    body_g = ctx.attr("body")
    m, cond = ctx.input(0), ctx.input(1)
    if m is None and cond is None:
        raise ctx.unsupported("a Loop with neither a trip count nor a condition never ends")
    carried = list(ctx.node.input[2:])
    if any(not c for c in carried):
        raise ctx.unsupported("an omitted loop-carried input")
    outer = _outer_inputs(ctx, body_g)
    fallbacks = [_scalar_type(np.int64), _scalar_type(np.bool_), *(ctx.net.blob_type(c) for c in carried)]
    body = import_body(ctx, body_g, fallbacks, outer)
    if len(body.outputs) < 1 + len(carried) or len(ctx.node.output) != len(body.outputs) - 1:
        raise ctx.unsupported("its body's outputs do not match the node's")
    op = O.get_op("Loop")(body, m is not None, cond is not None, len(carried))
    ins = [b for b in (m, cond) if b is not None] + carried + outer
    try:
        op.infer(*(ctx.net.blob_type(b) for b in ins))
    except O.InferError as exc:
        raise ctx.unsupported(f"its body does not fit its inputs: {exc}") from None
    ctx.emit(op, ins, [o or ctx.fresh("unused") for o in ctx.node.output])


@onnx_op("Scan", since=9)
def scan(ctx: NodeContext) -> None:
    body_g = ctx.attr("body")
    m = int(ctx.attr("num_scan_inputs"))
    ins = list(ctx.node.input)
    if any(not b for b in ins):
        raise ctx.unsupported("an omitted Scan input")
    n = len(ins) - m
    k = len(body_g.output) - n
    if n < 0 or k < 0 or len(ctx.node.output) != n + k:
        raise ctx.unsupported("its body's outputs do not match the node's")

    def attr(name, length, default):
        value = tuple(int(v) for v in ctx.attr(name, [default] * length))
        if len(value) != length:
            raise ctx.unsupported(f"{name} has {len(value)} entries, expected {length}")
        return value
    in_axes, in_dirs = attr("scan_input_axes", m, 0), attr("scan_input_directions", m, 0)
    out_axes, out_dirs = attr("scan_output_axes", k, 0), attr("scan_output_directions", k, 0)
    if any(d not in (0, 1) for d in in_dirs + out_dirs):
        raise ctx.unsupported("a scan direction other than 0 or 1")
    fallbacks = [ctx.net.blob_type(b) for b in ins[:n]]
    for b, a in zip(ins[n:], in_axes):
        t = ctx.net.blob_type(b)
        fallbacks.append(None if t is None else O.TensorType(t.dtype, None if t.shape is None else
                                                             (None,) * (len(t.shape) - 1)))
    outer = _outer_inputs(ctx, body_g)
    body = import_body(ctx, body_g, fallbacks, outer)
    op = O.get_op("Scan")(body, n, m, in_axes, tuple(bool(d) for d in in_dirs), out_axes,
                          tuple(bool(d) for d in out_dirs))
    try:
        op.infer(*(ctx.net.blob_type(b) for b in ins + outer))
    except O.InferError as exc:
        raise ctx.unsupported(f"its body does not fit its inputs: {exc}") from None
    ctx.emit(op, ins + outer, [o or ctx.fresh("unused") for o in ctx.node.output])


__all__ = ["import_body", "UnimplementedError"]
