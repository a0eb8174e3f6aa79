"""ONNX converters of the losses and of the quantized ops.

    NegativeLogLikelihoodLoss(input, target[, weight])  -> NegativeLogLikelihoodLoss(reduction, ignore_index)
    SoftmaxCrossEntropyLoss(scores, labels[, weights])  -> LogSoftmax(axis=1) (= log_prob) -> NegativeLogLikelihoodLoss
    QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear -> the op of that name
    ConvInteger(x, w[, x0, w0])      -> Cast(f64) -> Sub(zero point) on each side -> Conv -> Cast(i32)
    QLinearConv / QLinearMatMul      -> the same exact integer accumulation in f64 (Conv / MatMul), then
                                        * (x_scale * w_scale / y_scale, in the scales' dtype) + y_zero_point
                                        -> QuantizeLinear(scale 1) to the zero point's dtype

Accumulating in float64 is exact for integer operands while every partial
sum stays below 2**53 (8-bit products summed over up to 2**37 terms).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ... import ops as O
from ...ops import conv as C
from ...ops import losses as L
from ...ops import quantize as Q
from ...ops.softmax import LogSoftmax
from .convert_nn import _kernel, _window
from .converters import NodeContext, onnx_op
from .proto import onnx_dtype

_F64 = np.dtype(np.float64)


def _outputs(ctx: NodeContext, n: int) -> list[str]:
    """The node's first ``n`` outputs, a fresh name for each one the model does not want."""
    return [ctx.output(i) or ctx.fresh(f"unused{i}") for i in range(n)]


def _nll(ctx: NodeContext) -> L.NegativeLogLikelihoodLoss:
    reduction = str(ctx.attr("reduction", "mean"))
    if reduction not in L.REDUCTIONS:
        raise ctx.unsupported(f"reduction {reduction!r} (expected one of {sorted(L.REDUCTIONS)})")
    ii = ctx.attr("ignore_index", None)
    return L.NegativeLogLikelihoodLoss(reduction=reduction, ignore_index=None if ii is None else int(ii))


@onnx_op("NegativeLogLikelihoodLoss", since=12)
def negative_log_likelihood_loss(ctx: NodeContext) -> None:
    ctx.emit(_nll(ctx), ctx.inputs())


@onnx_op("SoftmaxCrossEntropyLoss", since=12)
def softmax_cross_entropy_loss(ctx: NodeContext) -> None:
    """NLL of log_softmax(scores) over the class axis 1; log_prob is output 1 when wanted."""
    loss, log_prob = _outputs(ctx, 2)
    ctx.emit(LogSoftmax(axis=1), [ctx.input(0)], [log_prob])
    ctx.emit(_nll(ctx), [log_prob] + ctx.inputs()[1:], [loss])


def _attr_dtype(ctx: NodeContext, name: str) -> Optional[np.dtype]:
    """The dtype an element-type attribute names (None when absent or 0)."""
    code = int(ctx.attr(name, 0))
    return onnx_dtype(code, f"ONNX node {ctx.name!r} attribute {name}") if code else None


def _known_dtype(ctx: NodeContext, i: int, what: str) -> np.dtype:
    t = ctx.type(i)
    if t is None:
        raise ctx.unsupported(f"the dtype of {what} is unknown")
    return t.dtype


@onnx_op("QuantizeLinear", since=10)
def quantize_linear(ctx: NodeContext) -> None:
    """The output dtype is the zero point's, else ``output_dtype``, else uint8 (``saturate`` is for float8 only)."""
    dtype = _known_dtype(ctx, 2, "y_zero_point") if ctx.input(2) else _attr_dtype(ctx, "output_dtype")
    dtype = dtype or np.dtype(np.uint8)
    if dtype not in Q.QUANT_DTYPES:
        raise ctx.unsupported(f"quantizing to {dtype}")
    op = Q.QuantizeLinear(axis=int(ctx.attr("axis", 1)), block_size=int(ctx.attr("block_size", 0)),
                          dtype=dtype, precision=_attr_dtype(ctx, "precision"))
    ctx.emit(op, ctx.inputs())


@onnx_op("DequantizeLinear", since=10)
def dequantize_linear(ctx: NodeContext) -> None:
    """The output dtype is ``output_dtype`` when given, else the scale's."""
    dtype = _attr_dtype(ctx, "output_dtype") or _known_dtype(ctx, 1, "x_scale")
    op = Q.DequantizeLinear(axis=int(ctx.attr("axis", 1)), block_size=int(ctx.attr("block_size", 0)), dtype=dtype)
    ctx.emit(op, ctx.inputs())


@onnx_op("DynamicQuantizeLinear", since=11)
def dynamic_quantize_linear(ctx: NodeContext) -> None:
    ctx.emit(Q.DynamicQuantizeLinear(), [ctx.input(0)], _outputs(ctx, 3))


def _f64(ctx: NodeContext, blob: str, hint: str, shape: Optional[tuple] = None) -> str:
    """``blob`` cast to float64 (and reshaped to ``shape`` when given)."""
    (out,) = ctx.emit(O.Cast(_F64), [blob], [ctx.fresh(f"{hint}_f64")])
    if shape is not None:
        (out,) = ctx.emit(O.Reshape(shape), [out], [ctx.fresh(f"{hint}_shaped")])
    return out


def _is_vector(ctx: NodeContext, i: int) -> bool:
    """True when input ``i`` is 1-D with more than one element (per row or per channel)."""
    t = ctx.type(i)
    if t is None or t.shape is None:
        raise ctx.unsupported(f"the shape of input {i} is unknown")
    return len(t.shape) == 1 and t.shape[0] != 1


def _centered(ctx: NodeContext, i: int, zp: int, zp_shape: tuple) -> str:
    """Input ``i`` minus zero point input ``zp`` (shaped ``zp_shape`` when 1-D), in float64."""
    v = _f64(ctx, ctx.input(i), f"in{i}")
    if ctx.input(zp) is None:
        return v
    z = _f64(ctx, ctx.input(zp), f"zp{zp}", zp_shape if _is_vector(ctx, zp) else None)
    (out,) = ctx.emit(O.Sub(), [v, z], [ctx.fresh(f"in{i}_centered")])
    return out


def _channels(ctx: NodeContext, kernel: tuple) -> tuple:
    """Reshapes that put a per-output-channel vector on axis 0 of W ([M, 1, ...]) and axis 1 of Y ([M, 1, ...] under N)."""
    return (-1,) + (1,) * (len(kernel) + 1), (-1,) + (1,) * len(kernel)


@onnx_op("ConvInteger", since=10)
def conv_integer(ctx: NodeContext) -> None:
    """Conv of (x - x_zero_point) and (w - w_zero_point, per output channel if 1-D), in int32."""
    kernel = _kernel(ctx, from_weights=True)
    w_shape, _ = _channels(ctx, kernel)
    x, w = _centered(ctx, 0, 2, (-1,)), _centered(ctx, 1, 3, w_shape)
    if ctx.input(2) is not None and _is_vector(ctx, 2):
        raise ctx.unsupported("a per-channel x_zero_point (the spec has one per tensor)")
    (acc,) = ctx.emit(C.Conv(group=int(ctx.attr("group", 1)), **_window(ctx, kernel)), [x, w], [ctx.fresh("acc")])
    ctx.emit(O.Cast(np.dtype(np.int32)), [acc])


def _requantize(ctx: NodeContext, acc: str, scales: tuple, y_zp: int, out_dtype: np.dtype) -> None:
    """Output 0 = QuantizeLinear(acc * (s0 * s1 / s2) + y_zero_point) to ``out_dtype``.

    ``scales`` are (input index, shape for a 1-D scale); the multiplier is computed in the scales' dtype.
    """
    (s0, shape0), (s1, shape1), (s2, _) = scales
    if _is_vector(ctx, s2) or (ctx.input(y_zp) is not None and _is_vector(ctx, y_zp)):
        raise ctx.unsupported("a per-row or per-channel output scale or zero point")
    vals = [ctx.input(s0), ctx.input(s1)]
    for k, (i, shape) in enumerate(((s0, shape0), (s1, shape1))):
        if _is_vector(ctx, i):
            (vals[k],) = ctx.emit(O.Reshape(shape), [vals[k]], [ctx.fresh(f"scale{i}_shaped")])
    (m,) = ctx.emit(O.Mul(), vals, [ctx.fresh("in_scale")])
    (m,) = ctx.emit(O.Div(), [m, ctx.input(s2)], [ctx.fresh("multiplier")])
    (d,) = ctx.emit(O.Mul(), [acc, _f64(ctx, m, "multiplier")], [ctx.fresh("scaled")])
    if ctx.input(y_zp) is not None:
        (d,) = ctx.emit(O.Add(), [d, _f64(ctx, ctx.input(y_zp), "y_zp")], [ctx.fresh("shifted")])
    if out_dtype not in Q.QUANT_DTYPES:
        raise ctx.unsupported(f"a quantized output of {out_dtype}")
    one = ctx.set_const(ctx.fresh("one"), np.asarray(1.0, _F64))
    ctx.emit(Q.QuantizeLinear(dtype=out_dtype), [d, one])


def _out_dtype(ctx: NodeContext, y_zp: int, x: int) -> np.dtype:
    return _known_dtype(ctx, y_zp if ctx.input(y_zp) else x, "the quantized output")


@onnx_op("QLinearMatMul", since=10)
def qlinear_matmul(ctx: NodeContext) -> None:
    """(a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point); a's per row, b's per column."""
    a, b = _centered(ctx, 0, 2, (-1, 1)), _centered(ctx, 3, 5, (-1,))
    (acc,) = ctx.emit(O.MatMul(), [a, b], [ctx.fresh("acc")])
    _requantize(ctx, acc, ((1, (-1, 1)), (4, (-1,)), (6, None)), 7, _out_dtype(ctx, 7, 0))


@onnx_op("QLinearConv", since=10)
def qlinear_conv(ctx: NodeContext) -> None:
    """(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point[, B]); w's per output channel."""
    kernel = _kernel(ctx, from_weights=False) if "kernel_shape" in ctx.attrs else _kernel_of_w(ctx)
    w_shape, y_shape = _channels(ctx, kernel)
    if _is_vector(ctx, 1) or (ctx.input(2) is not None and _is_vector(ctx, 2)):
        raise ctx.unsupported("a per-channel x_scale or x_zero_point (the spec has one per tensor)")
    ins = [_centered(ctx, 0, 2, (-1,)), _centered(ctx, 3, 5, w_shape)]
    if ctx.input(8) is not None:
        ins.append(_f64(ctx, ctx.input(8), "B"))
    (acc,) = ctx.emit(C.Conv(group=int(ctx.attr("group", 1)), **_window(ctx, kernel)), ins, [ctx.fresh("acc")])
    _requantize(ctx, acc, ((1, None), (4, y_shape), (6, None)), 7, _out_dtype(ctx, 7, 0))


def _kernel_of_w(ctx: NodeContext) -> tuple:
    """QLinearConv's W is input 3: its spatial dims are the kernel."""
    w = ctx.type(3)
    if w is None or w.shape is None or None in w.shape[2:]:
        raise ctx.unsupported("the kernel shape is neither an attribute nor static in W")
    return tuple(w.shape[2:])
