"""ONNX converters of the linear-algebra ops beyond MatMul (which convert_basic maps one to one).

    Gemm(A, B[, C])              -> MatMul(trans_a, trans_b) [-> Mul(alpha)] [-> Add(C [* beta])]
    MatMulInteger(A, B[, a0, b0]) -> Cast(i32) -> Sub(zero point) on each side -> MatMul
    Einsum(inputs, equation)      -> Einsum(equation)
"""
from __future__ import annotations

import numpy as np

from ... import ops as O
from ...ops import InferError
from ...ops.einsum import Einsum, parse_equation
from .converters import NodeContext, onnx_op


def _scalar(ctx: NodeContext, hint: str, value: float, dtype: np.dtype) -> str:
    """A constant ``value`` in ``dtype``; unsupported if an integer dtype cannot hold it exactly."""
    if dtype.kind in "iu" and value != int(value):
        raise ctx.unsupported(f"{hint}={value} is not an integer, but the inputs are {dtype}")
    return ctx.set_const(ctx.fresh(hint), np.asarray(value, dtype))


@onnx_op("Gemm")
def gemm(ctx: NodeContext) -> None:
    """alpha * A' @ B' + beta * C; opsets before 7 (``broadcast``) mean the same for valid models."""
    a_type = ctx.type(0)
    if a_type is None:
        raise ctx.unsupported("the dtype of A is unknown")
    alpha, beta = float(ctx.attr("alpha", 1.0)), float(ctx.attr("beta", 1.0))
    c = ctx.input(2)
    steps = (alpha != 1.0) + (c is not None)
    op = O.MatMul(trans_a=bool(ctx.attr("transA", 0)), trans_b=bool(ctx.attr("transB", 0)))
    (y,) = ctx.emit(op, [ctx.input(0), ctx.input(1)], [ctx.fresh("AB") if steps else ctx.output(0)])
    if alpha != 1.0:
        (y,) = ctx.emit(O.Mul(), [y, _scalar(ctx, "alpha", alpha, a_type.dtype)],
                        [ctx.fresh("alphaAB") if c is not None else ctx.output(0)])
    if c is not None:
        if beta != 1.0:
            (c,) = ctx.emit(O.Mul(), [c, _scalar(ctx, "beta", beta, a_type.dtype)], [ctx.fresh("betaC")])
        ctx.emit(O.Add(), [y, c], [ctx.output(0)])


@onnx_op("MatMulInteger")
def matmul_integer(ctx: NodeContext) -> None:
    """(A - a_zero_point) @ (B - b_zero_point) in int32; A's zero point is per row, B's per column."""
    sides = []
    for i, zp_index in ((0, 2), (1, 3)):
        (v,) = ctx.emit(O.Cast(np.dtype(np.int32)), [ctx.input(i)], [ctx.fresh(f"in{i}_i32")])
        zp = ctx.input(zp_index)
        if zp is not None:
            (zp,) = ctx.emit(O.Cast(np.dtype(np.int32)), [zp], [ctx.fresh(f"zp{i}_i32")])
            zt = ctx.type(zp_index)
            if i == 0 and zt is not None and zt.shape is not None and len(zt.shape) == 1:
                (zp,) = ctx.emit(O.Reshape((-1, 1)), [zp], [ctx.fresh("zp0_rows")])   # per row of A
            (v,) = ctx.emit(O.Sub(), [v, zp], [ctx.fresh(f"in{i}_centered")])
        sides.append(v)
    ctx.emit(O.MatMul(), sides)


@onnx_op("Einsum", since=12)
def einsum(ctx: NodeContext) -> None:
    equation = str(ctx.attr("equation"))
    try:
        parse_equation(equation, ctx.num_inputs())
    except InferError as exc:
        raise ctx.unsupported(str(exc)) from None
    ctx.emit(Einsum(equation=equation), ctx.inputs())
