"""ONNX export rows of netjit's core ops (elementwise, logical, reductions, contractions, shapes).

netjit promotes dtypes as NumPy does; ONNX wants its inputs of one type. Each
row casts its inputs to the dtype netjit computes in (``op.infer``), then
writes the ONNX op, so the exported model computes what netjit does:

    Add(i32 x, f32 y)       -> Add(Cast<f32>(x), y)
    Exp(i64 x)              -> Exp(Cast<f64>(x))        (NumPy's int -> f64)
    Div(i32 a, i32 b)       -> Div(Cast<f64>(a), Cast<f64>(b))   (true division)
    FC(x, w, b, axis)       -> Reshape(Gemm(Flatten(x, axis), w, b, transB=1))
    FusedElementwise(...)   -> its program's ops, one row each
"""
from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper

from netjit.errors import InvalidArgumentError

from ... import ops as O
from .export import ExportContext, Port, exports

_SAME_NAME = {O.Abs: "Abs", O.Add: "Add", O.Sub: "Sub", O.Mul: "Mul", O.Div: "Div", O.Exp: "Exp",
              O.Log: "Log", O.Sqrt: "Sqrt", O.Tanh: "Tanh", O.Sigmoid: "Sigmoid", O.Neg: "Neg",
              O.Relu: "Relu", O.Max: "Max", O.Min: "Min", O.Sum: "Sum", O.Pow: "Pow", O.Copy: "Identity",
              O.And: "And", O.Or: "Or", O.Not: "Not", O.Where: "Where"}
_COMPARE = {O.EQ: "Equal", O.GT: "Greater", O.GE: "GreaterOrEqual", O.LT: "Less", O.LE: "LessOrEqual"}


def elementwise(ctx: ExportContext, op, ins: list, outs: list) -> None:
    """Inputs cast to the dtype the op computes in, then the ONNX op of the same meaning."""
    out_t = outs[0].type
    if isinstance(op, O.Where):
        args = [ins[0].name] + [ctx.cast(p, out_t.dtype) for p in ins[1:]]
    elif type(op) in _COMPARE:
        dt = O.promote(*(p.type.dtype for p in ins))
        args = [ctx.cast(p, dt) for p in ins]
    else:
        args = [ctx.cast(p, out_t.dtype) for p in ins]
    if isinstance(op, O.Sum) and (out_t.dtype.kind != "f" or len(args) == 1):
        _add_chain(ctx, args, outs[0].name)             # ONNX's Sum is for floats only
        return
    name = _COMPARE.get(type(op)) or _SAME_NAME[type(op)]
    ctx.node(name, args, [outs[0].name])


def _add_chain(ctx: ExportContext, args: list, out: str) -> None:
    acc = args[0]
    for k, a in enumerate(args[1:]):
        acc = ctx.node("Add", [acc, a], [out] if k == len(args) - 2 else None)[0]
    if len(args) == 1:
        ctx.node("Identity", [acc], [out])


exports(*_SAME_NAME, *_COMPARE)(elementwise)


@exports(O.Cast)
def cast(ctx: ExportContext, op, ins, outs) -> None:
    ctx.node("Cast", [ins[0].name], [outs[0].name], to=helper.np_dtype_to_tensor_dtype(np.dtype(op.dtype)))


@exports(O.Const)
def const(ctx: ExportContext, op, ins, outs) -> None:
    ctx.initializers.append(numpy_helper.from_array(np.asarray(op.value.array), outs[0].name))


@exports(O.Placeholder)
def placeholder(ctx: ExportContext, op, ins, outs) -> None:
    raise InvalidArgumentError(f"ONNX export: {ctx.where}: the placeholder is needed but not fed; "
                               "list it in feeds")


@exports(O.FusedElementwise)
def fused(ctx: ExportContext, op, ins, outs) -> None:
    """Each step of the fused program exported as its own op."""
    values: list[Port] = list(ins)
    for step_op, args in op.program:
        arg_ports = [values[a] for a in args]
        (t,) = step_op.infer(*(p.type for p in arg_ports))
        port = Port(ctx.fresh(step_op.name), t)
        elementwise(ctx, step_op, arg_ports, [port])
        values.append(port)
    for out, k in zip(outs, op.outputs):
        ctx.node("Identity", [values[k].name], [out.name])


@exports(O.ReduceSum, O.ReduceMean, O.ReduceMax, O.ReduceMin)
def reduce(ctx: ExportContext, op, ins, outs) -> None:
    """Reduce<op>(Cast<out dtype>(x)); axes as an input from opset 13 (Sum) / 18 (the rest)."""
    x = ctx.cast(ins[0], outs[0].type.dtype)
    args, attrs = [x], {"keepdims": int(bool(op.keepdims))}
    axes = op.axes
    if axes is not None and len(axes) == 0:            # no axes: the identity, as NumPy's
        ctx.node("Identity", [x], [outs[0].name])
        return
    if axes is not None:
        if ctx.opset >= 18 or isinstance(op, O.ReduceSum):
            args.append(ctx.const(np.array(axes, np.int64), "axes"))
        else:
            attrs["axes"] = list(axes)
    ctx.node(type(op).__name__, args, [outs[0].name], **attrs)


@exports(O.Softmax)
def softmax(ctx: ExportContext, op, ins, outs) -> None:
    ctx.node("Softmax", [ins[0].name], [outs[0].name], axis=op.axis)


@exports(O.MatMul)
def matmul(ctx: ExportContext, op, ins, outs) -> None:
    dt = outs[0].type.dtype
    args = []
    for p, trans in zip(ins, (op.trans_a, op.trans_b)):
        name = ctx.cast(p, dt)
        if trans:
            rank = p.type.rank
            if rank is None or rank < 2:
                raise ctx.unsupported(f"a transposed MatMul operand of rank {rank}")
            perm = list(range(rank - 2)) + [rank - 1, rank - 2]
            name = ctx.node("Transpose", [name], perm=perm)[0]
        args.append(name)
    ctx.node("MatMul", args, [outs[0].name])


@exports(O.FC)
def fc(ctx: ExportContext, op, ins, outs) -> None:
    """Caffe2's FC: x flattened at ``axis`` times w transposed plus b, reshaped back."""
    dt = outs[0].type.dtype
    x, w, b = (ctx.cast(p, dt) for p in ins)
    flat = ctx.node("Flatten", [x], axis=op.axis)[0]
    gemm = ctx.node("Gemm", [flat, w, b], transB=1)[0]
    if ins[0].type.rank == 2 and op.axis == 1:
        ctx.node("Identity", [gemm], [outs[0].name])
        return
    shape = ctx.node("Shape", [x], end=op.axis)[0]
    n = ctx.node("Shape", [w], end=1)[0]
    ctx.node("Reshape", [gemm, ctx.node("Concat", [shape, n], axis=0)[0]], [outs[0].name])


@exports(O.Reshape)
def reshape(ctx: ExportContext, op, ins, outs) -> None:
    """netjit's Reshape copies a 0 dim and infers a -1 as ONNX's (allowzero=0) does."""
    ctx.node("Reshape", [ins[0].name, ctx.const(np.array(op.shape, np.int64), "shape")], [outs[0].name])


@exports(O.Transpose)
def transpose(ctx: ExportContext, op, ins, outs) -> None:
    attrs = {} if op.perm is None else {"perm": list(op.perm)}
    ctx.node("Transpose", [ins[0].name], [outs[0].name], **attrs)


@exports(O.Concat)
def concat(ctx: ExportContext, op, ins, outs) -> None:
    dt = outs[0].type.dtype
    ctx.node("Concat", [ctx.cast(p, dt) for p in ins], [outs[0].name], axis=op.axis)


@exports(O.Split)
def split(ctx: ExportContext, op, ins, outs) -> None:
    """Sizes as an input (static sizes when known); equal parts need ``num_outputs`` from opset 18."""
    sizes = op.split
    axis = op.axis % ins[0].type.rank if ins[0].type.rank else op.axis
    if sizes is None and ins[0].type.shape is not None and ins[0].type.shape[axis] is not None:
        sizes = op.sizes(ins[0].type.shape[axis])
    args, attrs = [ins[0].name], {"axis": op.axis}
    if sizes is not None:
        args.append(ctx.const(np.array(sizes, np.int64), "split"))
    elif ctx.opset >= 18:
        attrs["num_outputs"] = op.num
    ctx.node("Split", args, [o.name for o in outs], **attrs)


@exports(O.Slice)
def slice_(ctx: ExportContext, op, ins, outs) -> None:
    """Python slicing clamps as ONNX's Slice does (negative steps included)."""
    n = len(op.starts)
    args = [ins[0].name] + [ctx.const(np.array(v, np.int64), k) for k, v in
                            (("starts", op.starts), ("ends", op.ends),
                             ("axes", op.axes or tuple(range(n))), ("steps", op.steps or (1,) * n))]
    ctx.node("Slice", args, [outs[0].name])
