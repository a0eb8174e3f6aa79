"""Converters of ONNX's signal and vision ops.

    DFT-17(x, dft_length; axis attr)  -> DFT(axis, dft_length, inverse, onesided)(x)
    DFT-20(x, dft_length, axis)       -> the same, axis an input (default -2)
    STFT(signal, frame_step, window, frame_length) -> STFT(frame_step, frame_length, onesided)(signal[, window])
    Hann/Hamming/BlackmanWindow(size) -> the window op (size, periodic, output_datatype)
    MelWeightMatrix(5 scalars)        -> MelWeightMatrix(...)
    GridSample, AffineGrid, RoiAlign, NonMaxSuppression, DeformConv -> the op of that name

Scalar inputs become op fields: bound now when constant, else at run time
through ``FromInputs`` (``emit_with_params``).
"""
from __future__ import annotations

from ...ops import signal as S
from ...ops import signal_windows as W
from ...ops import vision as V
from ...ops import vision_boxes as B
from .converters import NodeContext, onnx_op
from .param_inputs import emit_with_params, rank_of
from .proto import onnx_dtype


def _inverse_onesided(ctx: NodeContext) -> dict:
    return dict(inverse=bool(ctx.attr("inverse", 0)), onesided=bool(ctx.attr("onesided", 0)))


@onnx_op("DFT", since=17)
def dft_17(ctx: NodeContext) -> None:
    op = S.DFT(axis=int(ctx.attr("axis", 1)), **_inverse_onesided(ctx))
    emit_with_params(ctx, op, [ctx.input(0)], {"dft_length": 1}, rank=rank_of(ctx, 0))


@onnx_op("DFT", since=20)
def dft_20(ctx: NodeContext) -> None:
    op = S.DFT(axis=-2, **_inverse_onesided(ctx))
    emit_with_params(ctx, op, [ctx.input(0)], {"dft_length": 1, "axis": 2}, rank=rank_of(ctx, 0))


@onnx_op("STFT", since=17)
def stft(ctx: NodeContext) -> None:
    window = ctx.input(2)
    data = [ctx.input(0)] + ([window] if window else [])
    op = S.STFT(onesided=bool(ctx.attr("onesided", 1)))
    emit_with_params(ctx, op, data, {"frame_step": 1, "frame_length": 3}, rank=4)


def _datatype(ctx: NodeContext):
    return onnx_dtype(int(ctx.attr("output_datatype", 1)), f"ONNX node {ctx.name!r} output_datatype")


def _window(cls):
    def convert(ctx: NodeContext) -> None:
        op = cls(periodic=bool(ctx.attr("periodic", 1)), dtype=_datatype(ctx))
        emit_with_params(ctx, op, [], {"size": 0}, rank=1)
    return convert


for _cls in (W.HannWindow, W.HammingWindow, W.BlackmanWindow):
    onnx_op(_cls.__name__, since=17)(_window(_cls))


@onnx_op("MelWeightMatrix", since=17)
def mel_weight_matrix(ctx: NodeContext) -> None:
    names = ("num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz")
    emit_with_params(ctx, W.MelWeightMatrix(dtype=_datatype(ctx)), [], {n: i for i, n in enumerate(names)}, rank=2)


@onnx_op("GridSample", since=16)
def grid_sample(ctx: NodeContext) -> None:
    mode = ctx.attr("mode", "linear" if ctx.opset >= 20 else "bilinear")
    mode = {"bilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    if mode not in V.MODES:
        raise ctx.unsupported(f"mode {mode!r}")
    op = V.GridSample(mode=mode, padding_mode=ctx.attr("padding_mode", "zeros"),
                      align_corners=bool(ctx.attr("align_corners", 0)))
    ctx.emit(op, ctx.inputs())


@onnx_op("AffineGrid", since=20)
def affine_grid(ctx: NodeContext) -> None:
    t = ctx.type(0)
    rank = None if t is None or t.shape is None or t.shape[1] is None else t.shape[1] + 2
    op = V.AffineGrid(align_corners=bool(ctx.attr("align_corners", 0)))
    emit_with_params(ctx, op, [ctx.input(0)], {"size": 1}, rank=rank)


@onnx_op("NonMaxSuppression", since=10)
def non_max_suppression(ctx: NodeContext) -> None:
    ctx.emit(B.NonMaxSuppression(center_point_box=bool(ctx.attr("center_point_box", 0))), ctx.inputs())


@onnx_op("RoiAlign", since=10)
def roi_align(ctx: NodeContext) -> None:
    mode = ctx.attr("mode", "avg")
    transform = ctx.attr("coordinate_transformation_mode", "half_pixel" if ctx.opset >= 16 else "output_half_pixel")
    if mode not in ("avg", "max") or transform not in ("half_pixel", "output_half_pixel"):
        raise ctx.unsupported(f"mode {mode!r} with coordinate_transformation_mode {transform!r}")
    op = B.RoiAlign(mode=mode, output_height=int(ctx.attr("output_height", 1)),
                    output_width=int(ctx.attr("output_width", 1)), sampling_ratio=int(ctx.attr("sampling_ratio", 0)),
                    spatial_scale=float(ctx.attr("spatial_scale", 1.0)), half_pixel=transform == "half_pixel")
    ctx.emit(op, ctx.inputs())


@onnx_op("DeformConv", since=19)
def deform_conv(ctx: NodeContext) -> None:
    w = ctx.type(1)
    kernel = ctx.attr("kernel_shape", None)
    if kernel is None and (w is None or w.shape is None or None in w.shape[2:]):
        raise ctx.unsupported("kernel_shape is absent and W's shape is unknown")
    kernel = tuple(int(k) for k in (kernel or w.shape[2:]))
    if len(kernel) != 2:
        raise ctx.unsupported(f"a {len(kernel)}-D kernel (only 2-D DeformConv is supported)")
    op = V.DeformConv(kernel_shape=kernel, strides=tuple(ctx.attr("strides", (1, 1))),
                      pads=tuple(ctx.attr("pads", (0, 0, 0, 0))), dilations=tuple(ctx.attr("dilations", (1, 1))),
                      group=int(ctx.attr("group", 1)), offset_group=int(ctx.attr("offset_group", 1)))
    ctx.emit(op, ctx.inputs())
