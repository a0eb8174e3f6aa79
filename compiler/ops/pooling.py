"""Pools over the spatial axes of [N, C, *spatial] (ONNX semantics): MaxPool, AveragePool, LpPool.

Geometry is explicit (``pads`` begin..., end...; auto_pad is resolved at
import). With ``ceil_mode`` the last window may run past the padded input;
the positions it covers there are neither values nor padding: a max ignores
them and an average never counts them, even with ``count_include_pad``.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, NUMERIC_DTYPES, TensorType, DTYPES
from .window import check_geometry, out_size, pad_spatial, span, windows


def _ints(value) -> tuple:
    return tuple(int(v) for v in value)


class _Pool(Op):
    """Shared geometry of the pools: one input [N, C, *spatial]."""

    kind: ClassVar[OpKind] = OpKind.REDUCTION
    dtypes: ClassVar[frozenset] = FLOAT_DTYPES

    def __post_init__(self):
        for f in ("kernel_shape", "strides", "dilations", "pads"):
            object.__setattr__(self, f, _ints(getattr(self, f)))

    def geometry(self) -> tuple:
        nd = len(self.kernel_shape)
        return (self.kernel_shape, self.strides or (1,) * nd, self.dilations or (1,) * nd,
                self.pads or (0,) * (2 * nd))

    def out_spatial(self, sizes) -> tuple:
        k, s, d, p = self.geometry()
        nd = len(k)
        return tuple(out_size(sizes[i], k[i], s[i], d[i], p[i], p[nd + i], self.ceil_mode) for i in range(nd))

    def out_type(self, t: TensorType) -> TensorType:
        self.check_arity(1)
        if t.dtype not in self.dtypes:
            raise InferError(f"does not accept dtype {t.dtype}")
        k, s, d, p = self.geometry()
        check_geometry(len(k), k, s, d, p)
        if t.shape is None:
            return TensorType(t.dtype, None)
        if len(t.shape) != 2 + len(k):
            raise InferError(f"kernel_shape {k} needs X of rank {2 + len(k)}, got {t}")
        return TensorType(t.dtype, tuple(t.shape[:2]) + self.out_spatial(t.shape[2:]))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        return (self.out_type(inputs[0]),)

    def overhang(self, sizes) -> tuple:
        """Positions the ceil_mode windows run past the end pads, per axis."""
        k, s, d, p = self.geometry()
        nd = len(k)
        outs = self.out_spatial(sizes)
        return tuple(max(0, (outs[i] - 1) * s[i] + span(k[i], d[i]) - sizes[i] - p[i] - p[nd + i])
                     for i in range(nd))

    def padded_windows(self, x: np.ndarray, fill, pad_fill=None) -> np.ndarray:
        """Windows [N, C, *out, *kernel] of ``x``: pads hold ``pad_fill`` (default ``fill``), the overhang ``fill``."""
        k, s, d, p = self.geometry()
        nd, sizes = len(k), x.shape[2:]
        xp = pad_spatial(x, p[:nd], p[nd:], fill if pad_fill is None else pad_fill)
        xp = pad_spatial(xp, (0,) * nd, self.overhang(sizes), fill)
        return windows(xp, k, s, d, self.out_spatial(sizes))

    def window_counts(self, x: np.ndarray, include_pad: bool) -> np.ndarray:
        """Positions each window covers [1, 1, *out]: real ones, or real and explicitly padded ones."""
        ones = np.ones((1, 1) + x.shape[2:])
        win = self.padded_windows(ones, 0.0, 1.0 if include_pad else 0.0)
        return win.sum(axis=tuple(range(-len(self.kernel_shape), 0)))


@register_op
class MaxPool(_Pool):
    """Y = the max of each window; with ``with_indices`` also Indices, the flat position of the
    (first) max in X: (n*C + c) * prod(spatial) + the spatial index, row-major or, with
    ``storage_order`` 1, column-major."""

    dtypes: ClassVar[frozenset] = NUMERIC_DTYPES
    kernel_shape: tuple = ()
    strides: tuple = ()
    dilations: tuple = ()
    pads: tuple = ()
    ceil_mode: bool = False
    storage_order: int = 0
    with_indices: bool = False

    @property
    def num_outputs(self) -> int:
        return 2 if self.with_indices else 1

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        t = self.out_type(inputs[0])
        return (t, TensorType(DTYPES["i64"], t.shape)) if self.with_indices else (t,)

    def reference(self, x):
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        nd = len(self.kernel_shape)
        flat = self.padded_windows(x, low)
        flat = flat.reshape(flat.shape[:2 + nd] + (-1,))
        y = flat.max(axis=-1)
        if not self.with_indices:
            return (y,)
        spatial = int(np.prod(x.shape[2:]))
        idx = np.arange(spatial).reshape(x.shape[2:], order="F" if self.storage_order else "C")
        idx = idx + spatial * np.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2] + (1,) * nd)
        iwin = self.padded_windows(idx, -1).reshape(flat.shape)
        first = np.argmax((flat == y[..., None]) & (iwin >= 0), axis=-1)   # the first real position of the max
        return (y, np.take_along_axis(iwin, first[..., None], -1)[..., 0].astype(np.int64))

    @classmethod
    def samples(cls):
        geo = dict(kernel_shape=(2, 3), strides=(2, 1), pads=(1, 0, 1, 1), dilations=(1, 2), ceil_mode=True)
        x = _rand((2, 2, 5, 6))
        return [Sample(cls(kernel_shape=(3,)), (_rand((1, 3, 7)),), _loop_pool("max", dict(kernel_shape=(3,)))),
                Sample(cls(**geo), (x,), _loop_pool("max", geo)),
                Sample(cls(with_indices=True, **geo), (x,), _loop_pool("max", geo, indices=True)),
                Sample(cls(with_indices=True, storage_order=1, kernel_shape=(2, 2)), (_rand((1, 2, 3, 4), np.int32),),
                       _loop_pool("max", dict(kernel_shape=(2, 2)), indices=True, order="F"))]


@register_op
class AveragePool(_Pool):
    """Y = the mean of each window's real positions (``count_include_pad``: of its real and padded ones)."""

    kernel_shape: tuple = ()
    strides: tuple = ()
    dilations: tuple = ()
    pads: tuple = ()
    ceil_mode: bool = False
    count_include_pad: bool = False

    def reference(self, x):
        nd = len(self.kernel_shape)
        total = self.padded_windows(x, 0).sum(axis=tuple(range(-nd, 0)))
        return ((total / self.window_counts(x, self.count_include_pad)).astype(x.dtype),)

    @classmethod
    def samples(cls):
        geo = dict(kernel_shape=(3, 2), strides=(2, 2), pads=(1, 1, 1, 0), ceil_mode=True)
        x = _rand((1, 2, 6, 5))
        return [Sample(cls(**geo), (x,), _loop_pool("avg", geo)),
                Sample(cls(count_include_pad=True, **geo), (x,), _loop_pool("avg", geo, include_pad=True)),
                Sample(cls(kernel_shape=(2, 2, 2), dilations=(2, 1, 1)), (_rand((1, 1, 4, 3, 3), np.float64),),
                       _loop_pool("avg", dict(kernel_shape=(2, 2, 2), dilations=(2, 1, 1))))]


@register_op
class LpPool(_Pool):
    """Y = (sum of |x|**p over each window) ** (1/p); padding counts as 0."""

    kernel_shape: tuple = ()
    strides: tuple = ()
    dilations: tuple = ()
    pads: tuple = ()
    ceil_mode: bool = False
    p: float = 2.0

    def reference(self, x):
        nd = len(self.kernel_shape)
        total = (np.abs(self.padded_windows(x, 0)) ** self.p).sum(axis=tuple(range(-nd, 0)))
        return ((total ** (1.0 / self.p)).astype(x.dtype),)

    @classmethod
    def samples(cls):
        geo = dict(kernel_shape=(2, 2), strides=(1, 2), pads=(0, 1, 1, 0))
        return [Sample(cls(**geo), (_rand((1, 2, 4, 5)),), _loop_pool("lp2", geo)),
                Sample(cls(kernel_shape=(3,), p=3.0), (_rand((2, 1, 5), np.float64),),
                       _loop_pool("lp3", dict(kernel_shape=(3,))))]


def _loop_pool(how: str, attrs: dict, include_pad=False, indices=False, order="C"):
    """An independent expectation: visit every window tap by tap, classifying each position."""
    def expect(x):
        k = attrs["kernel_shape"]
        nd = len(k)
        s, d = attrs.get("strides", (1,) * nd), attrs.get("dilations", (1,) * nd)
        p = attrs.get("pads", (0,) * (2 * nd))
        outs = []
        for i in range(nd):
            room = x.shape[2 + i] + p[i] + p[nd + i] - (k[i] - 1) * d[i] - 1
            o = (-(-room // s[i]) if attrs.get("ceil_mode") else room // s[i]) + 1
            outs.append(o - 1 if attrs.get("ceil_mode") and (o - 1) * s[i] >= x.shape[2 + i] + p[i] else o)
        y = np.zeros(x.shape[:2] + tuple(outs), x.dtype)
        ind = np.zeros(y.shape, np.int64)
        for idx in np.ndindex(*y.shape):
            vals, where, padded = [], [], 0
            for tap in np.ndindex(*k):
                pos = [idx[2 + i] * s[i] + tap[i] * d[i] - p[i] for i in range(nd)]
                if all(0 <= pos[i] < x.shape[2 + i] for i in range(nd)):
                    vals.append(x[idx[:2] + tuple(pos)])
                    where.append(pos)
                elif all(-p[i] <= pos[i] < x.shape[2 + i] + p[nd + i] for i in range(nd)):
                    padded += 1
            if how == "max":
                best = int(np.argmax(vals))
                y[idx] = vals[best]
                flat = np.ravel_multi_index(tuple(where[best]), x.shape[2:], order=order)
                ind[idx] = (idx[0] * x.shape[1] + idx[1]) * int(np.prod(x.shape[2:])) + flat
            elif how == "avg":
                y[idx] = sum(vals) / (len(vals) + (padded if include_pad else 0))
            else:
                q = float(how[2:])
                y[idx] = sum(abs(v) ** q for v in vals) ** (1 / q)
        return (y, ind) if indices else y
    return expect
