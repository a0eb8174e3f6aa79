"""Sampling ops with ONNX semantics: GridSample, AffineGrid, and the bilinear sampler they share.

    GridSample(mode, padding_mode, align_corners)(X [N, C, *S], grid [N, *O, r])  -> [N, C, *O]
    AffineGrid(size, align_corners)(theta [N, r, r + 1])                          -> [N, *S, r]

Grid coordinates are normalized to [-1, 1], the last grid axis in (x, y[, z])
order, i.e. the spatial axes reversed. ``align_corners`` puts -1 and 1 at the
centres of the corner pixels, else at their outer edges.
"""
from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, TensorType

#: Keys' cubic convolution parameter (as PyTorch and ONNX).
CUBIC_A = -0.75
MODES = ("nearest", "linear", "cubic")
PADDINGS = ("zeros", "border", "reflection")


def unnormalize(g: np.ndarray, size: int, align_corners: bool) -> np.ndarray:
    """Pixel coordinates of normalized coordinates ``g`` along an axis of ``size`` pixels."""
    return (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2


def reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``x`` reflected off ``lo`` and ``hi`` until it lies between them."""
    span = hi - lo
    if span <= 0:
        return np.full_like(x, lo)
    below = x < lo
    d = np.where(below, lo - x, x - hi)
    n = np.floor(d / span)
    r = d - n * span
    even = n % 2 == 0
    out = np.where(below, np.where(even, lo + r, hi - r), np.where(even, hi - r, lo + r))
    return np.where((x < lo) | (x > hi), out, x)


def _cubic_weights(t: np.ndarray) -> list:
    """Keys' weights of the taps at -1, 0, 1, 2 for a fraction ``t`` in [0, 1)."""
    a = CUBIC_A

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):   # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


@register_op
class GridSample(Op):
    """Y[n, c, o] = X[n, c] interpolated (``mode``) at the pixel coordinates of grid[n, o].

    Coordinates outside the image are first clamped (``border``) or reflected
    (``reflection``: off the corner centres with ``align_corners``, else off
    the outer edges); taps outside the image then read 0 (``zeros``), the
    nearest edge pixel (``border``) or the reflected pixel (``reflection``).
    ``nearest`` rounds half to even; ``cubic`` is Keys' with a = -0.75.
    """

    kind: ClassVar[OpKind] = OpKind.SHAPE
    arity: ClassVar[int] = 2
    mode: str = "linear"
    padding_mode: str = "zeros"
    align_corners: bool = False

    def __post_init__(self):
        if self.mode not in MODES or self.padding_mode not in PADDINGS:
            raise InferError(f"mode must be one of {MODES} and padding_mode one of {PADDINGS}, "
                             f"got {self.mode!r}, {self.padding_mode!r}")

    def infer(self, x, grid):
        if x.dtype not in FLOAT_DTYPES or grid.dtype not in FLOAT_DTYPES:
            raise InferError(f"X and grid must be float, got {x.dtype} and {grid.dtype}")
        if x.shape is None or grid.shape is None:
            return (TensorType(x.dtype, None),)
        if len(grid.shape) != len(x.shape) or grid.shape[-1] not in (None, len(x.shape) - 2):
            raise InferError(f"grid must be [N, *out, {len(x.shape) - 2}] for X {x}, got {grid}")
        return (TensorType(x.dtype, x.shape[:2] + grid.shape[1:-1]),)

    def _bounds(self, size: int) -> tuple:
        return (0.0, size - 1.0) if self.align_corners else (-0.5, size - 0.5)

    def _coordinate(self, g: np.ndarray, size: int) -> np.ndarray:
        x = unnormalize(g, size, self.align_corners)
        if self.mode == "nearest":
            x = np.rint(x)
        if self.padding_mode == "border":
            return np.where((x < self._bounds(size)[0]) | (x > self._bounds(size)[1]), np.clip(x, 0, size - 1), x)
        if self.padding_mode == "reflection":
            return reflect(x, *self._bounds(size))
        return x

    def _taps(self, x: np.ndarray) -> list:
        """[(integer index, weight)] of the taps along one axis."""
        if self.mode == "nearest":
            return [(x.astype(np.int64), np.ones_like(x))]
        base = np.floor(x)
        t = x - base
        if self.mode == "linear":
            return [(base.astype(np.int64), 1 - t), (base.astype(np.int64) + 1, t)]
        return [(base.astype(np.int64) + k - 1, w) for k, w in enumerate(_cubic_weights(t))]

    def _pixel(self, i: np.ndarray, size: int) -> tuple:
        """The index a tap reads, and whether it reads the image at all."""
        if self.padding_mode == "zeros":
            return np.clip(i, 0, size - 1), (i >= 0) & (i < size)
        if self.padding_mode == "border":
            return np.clip(i, 0, size - 1), np.ones(i.shape, bool)
        lo, hi = self._bounds(size)
        return np.clip(np.trunc(reflect(i.astype(np.float64), lo, hi)).astype(np.int64), 0, size - 1), \
            np.ones(i.shape, bool)

    def reference(self, x, grid):
        sizes = x.shape[2:]
        coords = [self._coordinate(grid[..., len(sizes) - 1 - a].astype(np.float64), s) for a, s in enumerate(sizes)]
        taps = [self._taps(c) for c in coords]
        n = np.arange(x.shape[0]).reshape((-1,) + (1,) * (grid.ndim - 2))
        out = np.zeros(grid.shape[:-1] + (x.shape[1],))
        for combo in itertools.product(*taps):
            weight, index, inside = 1.0, [], True
            for (i, w), s in zip(combo, sizes):
                j, ok = self._pixel(i, s)
                weight, inside = weight * w, inside & ok
                index.append(j)
            values = np.moveaxis(x, 1, -1)[(n, *index)]      # [N, *out, C]
            out += (weight * inside)[..., None] * values
        return (np.moveaxis(out, -1, 1).astype(x.dtype),)

    @classmethod
    def samples(cls):
        x = _rand((1, 2, 3, 4))
        corners = np.array([[[[-1, -1], [1, 1]], [[1, -1], [0, 0]]]], np.float32)   # [1, 2, 2, 2]

        def aligned(x, g):  # corners land on corner pixels; (0, 0) on (x=1.5, y=1), between two pixels
            y = np.empty((1, 2, 2, 2), np.float32)
            y[..., 0, 0], y[..., 0, 1], y[..., 1, 0] = x[..., 0, 0], x[..., 2, 3], x[..., 0, 3]
            y[..., 1, 1] = (x[..., 1, 1] + x[..., 1, 2]) / 2
            return y
        return [Sample(cls(align_corners=True), (x, corners), aligned),
                Sample(cls(mode="nearest", padding_mode="border"), (x, corners * 2),
                       lambda x, g: np.stack([np.stack([x[..., 0, 0], x[..., 2, 3]], -1),
                                              np.stack([x[..., 0, 3], x[..., 1, 2]], -1)], -2))]


@register_op
class AffineGrid(Op):
    """grid[n, *p] = theta[n] @ (x, y[, z], 1) of each output pixel p of ``size`` [N, C, *S], normalized."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    size: tuple = ()
    align_corners: bool = False

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (theta,) = inputs
        if not self.size:  # not bound yet (FromInputs asks before binding)
            return (TensorType(theta.dtype, None),)
        r = len(self.size) - 2
        if r not in (2, 3) or theta.shape is not None and theta.shape[1:] not in ((r, r + 1), (None, None)):
            raise InferError(f"size must be [N, C, H, W] or [N, C, D, H, W] and theta [N, r, r + 1], "
                             f"got size {self.size} and theta {theta}")
        return (TensorType(theta.dtype, (self.size[0],) + tuple(self.size[2:]) + (r,)),)

    def _axis(self, n: int) -> np.ndarray:
        if self.align_corners:
            return np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
        return (2 * np.arange(n) + 1) / n - 1

    def reference(self, theta):
        spatial = tuple(int(s) for s in self.size[2:])
        axes = np.meshgrid(*(self._axis(s) for s in spatial), indexing="ij")      # z?, y, x
        base = np.stack([*axes[::-1], np.ones(spatial)], axis=-1)                # [*S, r + 1]: x, y[, z], 1
        grid = np.einsum("...k,njk->n...j", base, theta.astype(np.float64))
        return (grid.astype(theta.dtype),)

    @classmethod
    def samples(cls):
        theta = _rand((2, 2, 3))

        def expect(t):
            out = np.empty((2, 3, 4, 2), np.float32)
            for n, i, j in np.ndindex(2, 3, 4):
                x, y = (2 * j + 1) / 4 - 1, (2 * i + 1) / 3 - 1
                out[n, i, j] = t[n] @ np.array([x, y, 1.0])
            return out
        return [Sample(cls(size=(2, 5, 3, 4)), (theta,), expect)]


def _bilinear_or_zero(img: np.ndarray, n: np.ndarray, c: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """img[n, c] sampled bilinearly at (y, x); corners outside the image read 0, and so does a point
    a pixel or more outside it."""
    h, w = img.shape[2:]
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    ly, lx = y - y0, x - x0
    out = np.zeros(np.broadcast(n, c, y, x).shape)
    for dy, dx, wt in ((0, 0, (1 - ly) * (1 - lx)), (0, 1, (1 - ly) * lx), (1, 0, ly * (1 - lx)), (1, 1, ly * lx)):
        yy, xx = y0 + dy, x0 + dx
        ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w) & (y > -1) & (y < h) & (x > -1) & (x < w)
        out += np.where(ok, wt * img[n, c, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)], 0.0)
    return out


@register_op
class DeformConv(Op):
    """A grouped 2-D convolution whose tap k at output (i, j) reads X bilinearly at
    (i * stride - pad + k_y * dilation + offset_y, j * ... + offset_x), times ``mask`` when given.

    offset is [N, offset_group * kH * kW * 2, oH, oW] ((y, x) per tap, per group of C / offset_group
    input channels), mask [N, offset_group * kH * kW, oH, oW]; B is added per output channel.
    """

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 3
    kernel_shape: tuple = (1, 1)
    strides: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    dilations: tuple = (1, 1)
    group: int = 1
    offset_group: int = 1

    def check_arity(self, n: int) -> None:
        if n not in (3, 4, 5):
            raise InferError(f"expects X, W, offset and optional B and mask (3 to 5 inputs), got {n}")

    def _out(self, size, axis: int):
        if size is None:
            return None
        span = self.dilations[axis] * (self.kernel_shape[axis] - 1) + 1
        return (size + self.pads[axis] + self.pads[axis + 2] - span) // self.strides[axis] + 1

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        x, w = inputs[:2]
        if x.dtype not in FLOAT_DTYPES or x.shape is not None and len(x.shape) != 4:
            raise InferError(f"X must be float [N, C, H, W] (only 2-D is supported), got {x}")
        if x.shape is None:
            return (TensorType(x.dtype, (None,) * 4),)
        return (TensorType(x.dtype, (x.shape[0], None if w.shape is None else w.shape[0],
                                     self._out(x.shape[2], 0), self._out(x.shape[3], 1))),)

    def reference(self, x, w, offset, b=None, mask=None):
        (n_, c_, _, _), (kh, kw), (oh, ow) = x.shape, self.kernel_shape, offset.shape[2:]
        taps = kh * kw
        off = offset.astype(np.float64).reshape(n_, self.offset_group, taps, 2, oh, ow)
        ky, kx = np.divmod(np.arange(taps), kw)
        (sy, sx), (dy, dx) = self.strides, self.dilations
        base_y = (np.arange(oh) * sy - self.pads[0])[None, :, None] + (ky * dy)[:, None, None]   # [taps, oH, 1]
        base_x = (np.arange(ow) * sx - self.pads[1])[None, None, :] + (kx * dx)[:, None, None]   # [taps, 1, oW]
        g = np.arange(c_) // (c_ // self.offset_group)                          # offset group of each channel
        n, c = np.arange(n_)[:, None, None, None, None], np.arange(c_)[None, :, None, None, None]
        per_channel = off[:, g]                                                # [N, C, taps, 2, oH, oW]
        y, xx = base_y + per_channel[:, :, :, 0], base_x + per_channel[:, :, :, 1]
        cols = _bilinear_or_zero(x.astype(np.float64), n, c, y, xx)
        if mask is not None:
            cols = cols * mask.astype(np.float64).reshape(n_, self.offset_group, taps, oh, ow)[:, g]
        per_in, per_out = c_ // self.group, w.shape[0] // self.group
        out = np.concatenate([np.einsum("nctij,oct->noij", cols[:, k * per_in:(k + 1) * per_in],
                                        w[k * per_out:(k + 1) * per_out].reshape(per_out, per_in, taps))
                              for k in range(self.group)], axis=1)
        if b is not None:
            out = out + b.reshape(1, -1, 1, 1)
        return (out.astype(x.dtype),)

    @classmethod
    def samples(cls):
        x, w = _rand((1, 2, 3, 3)), _rand((2, 1, 1, 1))

        def expect(x, w, offset):  # 1x1 taps moved by (0, 1): each pixel reads its right neighbour, 0 off the edge
            shifted = np.zeros_like(x)
            shifted[..., :-1] = x[..., 1:]
            return (shifted * w.reshape(1, 2, 1, 1)).astype(x.dtype)
        offset = np.zeros((1, 2, 3, 3), np.float32)
        offset[:, 1] = 1
        return [Sample(cls(group=2), (x, w, offset), expect)]
