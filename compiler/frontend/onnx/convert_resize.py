"""Converters of Resize and the Upsample it replaced.

    Resize(x, roi, scales, sizes) -> Resize(scales=... | sizes=..., roi=...)(x)
    Upsample(x, scales)           -> Resize(scales, "asymmetric", nearest_mode="floor")(x)
    antialias=1                   -> unsupported
"""
from __future__ import annotations

from ...ops.resize import Resize
from .converters import NodeContext, onnx_op
from .param_inputs import emit_with_params, length_of, rank_of


def _given(ctx: NodeContext, i: int) -> bool:
    """An optional input that is present and not empty (ONNX passes "" or an empty tensor)."""
    return ctx.input(i) is not None and length_of(ctx, i) != 0


@onnx_op("Resize", since=10)
def resize_10(ctx: NodeContext) -> None:
    """Resize-10 is Upsample-9 under a new name: asymmetric coordinates, nearest rounding down."""
    _upsample(ctx, scales_input=1)


@onnx_op("Resize", since=11)
def resize(ctx: NodeContext) -> None:
    if ctx.attr("antialias", 0):
        raise ctx.unsupported("antialias=1 is not supported")
    params = {"roi": 1} if _given(ctx, 1) else {}
    if _given(ctx, 3):
        params["sizes"] = 3
        base = {"sizes": ()}
    elif _given(ctx, 2):
        params["scales"] = 2
        base = {"scales": ()}
    else:
        raise ctx.unsupported("neither scales nor sizes is given")
    axes = ctx.attr("axes", None)
    coord = ctx.attr("coordinate_transformation_mode", "half_pixel")
    if coord != "tf_crop_and_resize":
        params.pop("roi", None)   # roi only matters for tf_crop_and_resize
    op = Resize(mode=ctx.attr("mode", "nearest"), coordinate_transformation_mode=coord,
                nearest_mode=ctx.attr("nearest_mode", "round_prefer_floor"),
                cubic_coeff_a=float(ctx.attr("cubic_coeff_a", -0.75)),
                exclude_outside=bool(ctx.attr("exclude_outside", 0)),
                extrapolation_value=float(ctx.attr("extrapolation_value", 0.0)),
                axes=None if axes is None else tuple(axes),
                keep_aspect_ratio_policy=ctx.attr("keep_aspect_ratio_policy", "stretch"), **base)
    emit_with_params(ctx, op, [ctx.input(0)], params, rank=rank_of(ctx, 0))


def _upsample(ctx: NodeContext, scales_input=None) -> None:
    mode = ctx.attr("mode", "nearest")
    if mode not in ("nearest", "linear"):
        raise ctx.unsupported(f"mode {mode!r}")
    op = Resize(mode=mode, coordinate_transformation_mode="asymmetric", nearest_mode="floor",
                scales=() if scales_input is not None else tuple(ctx.attr("scales")))
    if scales_input is None:
        ctx.emit(op, [ctx.input(0)])
    else:
        emit_with_params(ctx, op, [ctx.input(0)], {"scales": scales_input}, rank=rank_of(ctx, 0))


@onnx_op("Upsample", since=7)
def upsample_7(ctx: NodeContext) -> None:
    _upsample(ctx)


@onnx_op("Upsample", since=9)
def upsample(ctx: NodeContext) -> None:
    _upsample(ctx, scales_input=1)
