"""ONNX converters of the neural-network ops: convolutions and pools here, the rest by family.

    Conv(X, W[, B], auto_pad, pads, ...)     -> Conv(pads resolved from static shapes)(X, W[, B])
    ConvTranspose(..., output_shape)          -> ConvTranspose(pads resolved)(X, W[, B])
    MaxPool(X) -> MaxPool (Indices when asked)    AveragePool / LpPool -> the pool op
    GlobalAveragePool / GlobalMaxPool(X)      -> ReduceMean / ReduceMax over the spatial axes
    GlobalLpPool(X)                           -> LpPool with the whole spatial shape as kernel

auto_pad SAME_UPPER/SAME_LOWER becomes explicit pads at import; when the
spatial sizes are not static that is unsupported (never guessed).
"""
from __future__ import annotations

from typing import Optional

from ... import ops as O
from ...ops import conv as C
from ...ops import pooling as P
from ...ops.base import InferError
from ...ops.window import resolve_auto_pad, span
from . import convert_linalg, convert_norm, convert_rnn  # noqa: F401  (register their converters)
from .converters import NodeContext, onnx_op


def _spatial_sizes(ctx: NodeContext) -> Optional[tuple]:
    t = ctx.type(0)
    return None if t is None or t.shape is None else tuple(t.shape[2:])


def _kernel(ctx: NodeContext, from_weights: bool) -> tuple:
    """kernel_shape, or W's spatial dims; unsupported when neither is known."""
    if "kernel_shape" in ctx.attrs:
        return tuple(int(k) for k in ctx.attrs["kernel_shape"])
    w = ctx.type(1) if from_weights else None
    if w is None or w.shape is None or None in w.shape[2:]:
        raise ctx.unsupported("the kernel shape is neither an attribute nor static in W")
    return tuple(w.shape[2:])


def _window(ctx: NodeContext, kernel: tuple) -> dict:
    """strides, dilations and explicit pads (auto_pad resolved) for ``kernel``."""
    nd = len(kernel)
    strides = tuple(int(s) for s in ctx.attr("strides", (1,) * nd))
    dilations = tuple(int(d) for d in ctx.attr("dilations", (1,) * nd))
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    try:
        pads = resolve_auto_pad(auto_pad, _spatial_sizes(ctx), kernel, strides, dilations,
                                tuple(int(p) for p in ctx.attr("pads", ())))
    except InferError as exc:
        raise ctx.unsupported(str(exc)) from None
    if pads is None:
        raise ctx.unsupported(f"auto_pad={auto_pad} needs static spatial sizes, X is {ctx.type(0)}")
    return dict(strides=strides, dilations=dilations, pads=pads)


def _check_kernel(ctx: NodeContext, kernel: tuple, w_dims) -> None:
    if "kernel_shape" in ctx.attrs and w_dims is not None and None not in w_dims and tuple(w_dims) != kernel:
        raise ctx.unsupported(f"kernel_shape {kernel} differs from W's spatial shape {tuple(w_dims)}")


@onnx_op("Conv")
def conv(ctx: NodeContext) -> None:
    kernel = _kernel(ctx, from_weights=True)
    w = ctx.type(1)
    _check_kernel(ctx, kernel, None if w is None or w.shape is None else w.shape[2:])
    op = C.Conv(group=int(ctx.attr("group", 1)), **_window(ctx, kernel))
    ctx.emit(op, ctx.inputs())


@onnx_op("ConvTranspose")
def conv_transpose(ctx: NodeContext) -> None:
    kernel = _kernel(ctx, from_weights=True)
    nd = len(kernel)
    geo = _window(ctx, kernel) if ctx.attr("auto_pad", "NOTSET") in ("NOTSET", "VALID") else \
        dict(strides=tuple(int(s) for s in ctx.attr("strides", (1,) * nd)),
             dilations=tuple(int(d) for d in ctx.attr("dilations", (1,) * nd)))
    opad = tuple(int(p) for p in ctx.attr("output_padding", (0,) * nd))
    if "output_shape" in ctx.attrs or ctx.attr("auto_pad", "NOTSET").startswith("SAME"):
        geo["pads"] = _transpose_pads(ctx, kernel, geo["strides"], geo["dilations"], opad)
    op = C.ConvTranspose(group=int(ctx.attr("group", 1)), output_padding=opad, **geo)
    ctx.emit(op, ctx.inputs())


def _transpose_pads(ctx: NodeContext, kernel, strides, dilations, opad) -> tuple:
    """ConvTranspose pads from output_shape (or SAME: input * stride), as the ONNX spec computes them."""
    sizes = _spatial_sizes(ctx)
    if sizes is None or None in sizes:
        raise ctx.unsupported(f"output_shape/auto_pad SAME need static spatial sizes, X is {ctx.type(0)}")
    nd = len(kernel)
    wanted = tuple(int(v) for v in ctx.attr("output_shape", ()))[-nd:] if "output_shape" in ctx.attrs \
        else tuple(s * st for s, st in zip(sizes, strides))
    upper = ctx.attr("auto_pad", "NOTSET") == "SAME_UPPER"   # the spec: NOTSET puts the odd pad first
    begins, ends = [], []
    for i in range(nd):
        total = strides[i] * (sizes[i] - 1) + opad[i] + span(kernel[i], dilations[i]) - wanted[i]
        small, big = total // 2, total - total // 2
        begins.append(small if upper else big)
        ends.append(big if upper else small)
    return tuple(begins + ends)


def _pool_attrs(ctx: NodeContext) -> dict:
    kernel = _kernel(ctx, from_weights=False)
    return dict(kernel_shape=kernel, ceil_mode=bool(ctx.attr("ceil_mode", 0)), **_window(ctx, kernel))


@onnx_op("MaxPool")
def max_pool(ctx: NodeContext) -> None:
    with_indices = ctx.output(1) is not None
    op = P.MaxPool(storage_order=int(ctx.attr("storage_order", 0)), with_indices=with_indices, **_pool_attrs(ctx))
    ctx.emit(op, [ctx.input(0)], [ctx.output(0) or ctx.fresh("Y")] + ([ctx.output(1)] if with_indices else []))


@onnx_op("AveragePool")
def average_pool(ctx: NodeContext) -> None:
    op = P.AveragePool(count_include_pad=bool(ctx.attr("count_include_pad", 0)), **_pool_attrs(ctx))
    ctx.emit(op, [ctx.input(0)])


@onnx_op("LpPool")
def lp_pool(ctx: NodeContext) -> None:
    ctx.emit(P.LpPool(p=float(ctx.attr("p", 2)), **_pool_attrs(ctx)), [ctx.input(0)])


def _spatial_axes(ctx: NodeContext) -> tuple:
    t = ctx.type(0)
    if t is None or t.shape is None:
        raise ctx.unsupported("a global pool needs the rank of X, which is unknown")
    if len(t.shape) < 3:
        raise ctx.unsupported(f"X must be [N, C, *spatial], got {t}")
    return tuple(range(2, len(t.shape)))


@onnx_op("GlobalAveragePool")
def global_average_pool(ctx: NodeContext) -> None:
    ctx.emit(O.ReduceMean(axes=_spatial_axes(ctx)), [ctx.input(0)])


@onnx_op("GlobalMaxPool")
def global_max_pool(ctx: NodeContext) -> None:
    ctx.emit(O.ReduceMax(axes=_spatial_axes(ctx)), [ctx.input(0)])


@onnx_op("GlobalLpPool")
def global_lp_pool(ctx: NodeContext) -> None:
    """GlobalLpPool(X) -> LpPool with the whole (static) spatial shape as its kernel."""
    _spatial_axes(ctx)
    sizes = _spatial_sizes(ctx)
    if None in sizes:
        raise ctx.unsupported(f"GlobalLpPool needs static spatial sizes, X is {ctx.type(0)}")
    ctx.emit(P.LpPool(kernel_shape=sizes, p=float(ctx.attr("p", 2))), [ctx.input(0)])
