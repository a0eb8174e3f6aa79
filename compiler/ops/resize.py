"""Resize with ONNX semantics: nearest, (n-)linear and cubic interpolation, one axis at a time.

Each output coordinate maps back to an input coordinate by the coordinate
transformation mode; the interpolation then reads taps around it (indices
clamped to the axis, as ONNX's edge padding does). Interpolation is separable,
so resizing axis after axis equals resizing all at once.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import TensorType

MODES = frozenset({"nearest", "linear", "cubic"})
COORDINATE_MODES = frozenset({"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                              "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"})
NEAREST_MODES = frozenset({"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})
ASPECT_POLICIES = frozenset({"stretch", "not_larger", "not_smaller"})


def source_coords(mode: str, n_in: int, n_out: int, scale: float, roi: tuple[float, float]) -> np.ndarray:
    """Where each output index of one axis lies in input coordinates.

    ``scale * n_in`` (not the rounded ``n_out``) is the resized length, as in ONNX's definition.
    """
    x = np.arange(n_out, dtype=np.float64)
    length = scale * n_in
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "half_pixel_symmetric":
        offset = n_in / 2 * (1 - n_out / length)
        return offset + (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if length != 1 else np.full(n_out, -0.5)
    if mode == "align_corners":
        return x * (n_in - 1) / (length - 1) if length != 1 else np.zeros(n_out)
    if mode == "asymmetric":
        return x / scale
    if mode == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    start, end = roi   # tf_crop_and_resize
    if length == 1:
        return np.full(n_out, (end - start) * (n_in - 1) / 2 + start * (n_in - 1))
    return x * (end - start) * (n_in - 1) / (length - 1) + start * (n_in - 1)


def cubic_kernel(t: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with coefficient ``a``."""
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


@register_op
class Resize(Op):
    """ONNX Resize to ``sizes``, or by ``scales``, over ``axes`` (None: all); no antialiasing."""

    kind: ClassVar[OpKind] = OpKind.SHAPE
    mode: str = "nearest"
    coordinate_transformation_mode: str = "half_pixel"
    nearest_mode: str = "round_prefer_floor"
    cubic_coeff_a: float = -0.75
    exclude_outside: bool = False
    extrapolation_value: float = 0.0
    scales: Optional[tuple] = None
    sizes: Optional[tuple] = None
    roi: Optional[tuple] = None
    axes: Optional[tuple] = None
    keep_aspect_ratio_policy: str = "stretch"

    def __post_init__(self):
        for name, allowed in (("mode", MODES), ("coordinate_transformation_mode", COORDINATE_MODES),
                              ("nearest_mode", NEAREST_MODES), ("keep_aspect_ratio_policy", ASPECT_POLICIES)):
            if getattr(self, name) not in allowed:
                raise InferError(f"unknown {name} {getattr(self, name)!r}; expected one of {sorted(allowed)}")
        for name, conv in (("scales", float), ("sizes", int), ("roi", float), ("axes", int)):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(conv(v) for v in value))
        if (self.scales is None) == (self.sizes is None):
            raise InferError("exactly one of scales and sizes must be given")

    def plan(self, shape: tuple) -> tuple[list[int], list[int], list[float]]:
        """(resized axes, output shape, scale per axis) for an input of ``shape``."""
        r = len(shape)
        axes = list(range(r)) if self.axes is None else [a % r for a in self.axes]
        if self.axes is not None:
            normalize_axes(self.axes, r)
        given = self.scales if self.scales is not None else self.sizes
        if len(given) != len(axes):
            raise InferError(f"{len(given)} scales or sizes for {len(axes)} axes")
        out, scale = list(shape), [1.0] * r
        if self.scales is not None:
            for a, s in zip(axes, self.scales):
                scale[a], out[a] = s, int(s * shape[a])
            return axes, out, scale
        for a, n in zip(axes, self.sizes):
            scale[a], out[a] = n / shape[a], n
        if self.keep_aspect_ratio_policy != "stretch":
            pick = min if self.keep_aspect_ratio_policy == "not_larger" else max
            s = pick(scale[a] for a in axes)
            for a in axes:
                scale[a], out[a] = s, int(s * shape[a] + 0.5)
        return axes, out, scale

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (TensorType(t.dtype, None),)
        if self.sizes is not None and self.keep_aspect_ratio_policy == "stretch":
            r = len(t.shape)
            axes = list(range(r)) if self.axes is None else [a % r for a in self.axes]
            if len(self.sizes) != len(axes):
                raise InferError(f"{len(self.sizes)} sizes for {len(axes)} axes")
            shape = list(t.shape)
            for a, n in zip(axes, self.sizes):
                shape[a] = n
            return (TensorType(t.dtype, tuple(shape)),)
        if None in t.shape:
            return (TensorType(t.dtype, (None,) * len(t.shape)),)
        return (TensorType(t.dtype, tuple(self.plan(t.shape)[1])),)

    def taps(self, n_in: int, n_out: int, scale: float, roi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(input indices [n_out, T], weights [n_out, T], inside-the-roi mask [n_out]) of one axis."""
        x = source_coords(self.coordinate_transformation_mode, n_in, n_out, scale, roi)
        inside = (x >= 0) & (x <= n_in - 1)
        f = np.floor(x)
        r = x - f
        if self.mode == "nearest":
            up = {"round_prefer_floor": r > 0.5, "round_prefer_ceil": r >= 0.5,
                  "floor": np.zeros_like(r, bool), "ceil": r > 0}[self.nearest_mode]
            idx, w = (f + up)[:, None], np.ones((n_out, 1))
        elif self.mode == "linear":
            idx, w = np.stack([f, f + 1], 1), np.stack([1 - r, r], 1)
        else:
            idx = np.stack([f - 1, f, f + 1, f + 2], 1)
            w = cubic_kernel(np.stack([r + 1, r, 1 - r, 2 - r], 1), self.cubic_coeff_a)
            if self.exclude_outside:
                w = np.where((idx >= 0) & (idx <= n_in - 1), w, 0.0)
                w = w / w.sum(1, keepdims=True)
        return np.clip(idx, 0, n_in - 1).astype(np.int64), w, inside

    def reference(self, x):
        axes, out_shape, scale = self.plan(x.shape)
        roi = self.roi or (0.0,) * len(axes) + (1.0,) * len(axes)
        y = x if self.mode == "nearest" else x.astype(np.float64)
        outside = np.zeros(out_shape, bool)
        for i, a in enumerate(axes):
            idx, w, inside = self.taps(x.shape[a], out_shape[a], scale[a], (roi[i], roi[len(axes) + i]))
            moved = np.moveaxis(y, a, 0)
            if self.mode == "nearest":
                moved = moved[idx[:, 0]]
            else:
                wb = w.reshape(w.shape + (1,) * (moved.ndim - 1))
                moved = sum(wb[:, t] * moved[idx[:, t]] for t in range(idx.shape[1]))
            y = np.moveaxis(moved, 0, a)
            if self.coordinate_transformation_mode == "tf_crop_and_resize":
                outside |= ~inside.reshape((-1,) + (1,) * (x.ndim - 1 - a))
        y = np.array(y, dtype=x.dtype if self.mode == "nearest" else np.float64)
        if outside.any():
            y[outside] = self.extrapolation_value
        return (y.astype(x.dtype),)

    @classmethod
    def samples(cls):
        x = np.float32([[1, 2], [3, 4]])
        lin = np.float32([[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]])
        return [Sample(cls(scales=(2.0, 2.0)), (x,), lambda x: x.repeat(2, 0).repeat(2, 1)),
                Sample(cls("linear", "align_corners", sizes=(3, 3)), (x,), lambda x: lin),
                Sample(cls(sizes=(1,), axes=(1,), coordinate_transformation_mode="asymmetric"),
                       (_rand((3, 4), np.int64),), lambda x: x[:, :1]),
                Sample(cls("cubic", scales=(1.0, 1.0)), (x,), lambda x: x.copy())]
