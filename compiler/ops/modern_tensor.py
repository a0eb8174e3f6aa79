"""Tensor ops of recent ONNX opsets: CumProd, BitCast, Unique, CenterCropPad, Det.

    CumProd(i32[1, 2, 3], axis=0) -> i32[1, 2, 6]       BitCast(f32[1.0], to=i32) -> i32[1065353216]
    Unique(i64[2, 1, 1, 3]) -> (i64[1, 2, 3], first indices, inverse indices, counts)
    CenterCropPad(f32[5, 3], shape=(3, 4)) -> rows 1..3, columns padded 0 left, 1 right
    Det(f32[2, 3, 3]) -> f32[2]
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from netjit.errors import UnimplementedError

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .ordering import Cumulative
from .types import DTYPES, FLOAT_DTYPES, TensorType, as_dtype

_I64 = DTYPES["i64"]


@register_op
class CumProd(Cumulative):
    """Running products along ``axis``; ``exclusive`` leaves out the entry itself, ``reverse`` runs from the end."""

    accumulate: ClassVar = staticmethod(np.cumprod)
    start: ClassVar[int] = 1

    @classmethod
    def samples(cls):
        x = np.float64([[1, 2, 3], [4, 5, 6]])
        return [Sample(cls(1), (x,), lambda x: np.float64([[1, 2, 6], [4, 20, 120]])),
                Sample(cls(0, exclusive=True), (x,), lambda x: np.float64([[1, 1, 1], [1, 2, 3]])),
                Sample(cls(-1, True, True), (x.astype(np.int32),), lambda x: np.int32([[6, 3, 1], [30, 6, 1]]))]


@register_op
class BitCast(Op):
    """The input's bytes (little endian) read as ``to``, a dtype of the same width."""

    kind: ClassVar[OpKind] = OpKind.SHAPE
    to: np.dtype = DTYPES["i32"]

    def __post_init__(self):
        object.__setattr__(self, "to", as_dtype(self.to))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.dtype.kind in "OUS" or t.dtype.itemsize != self.to.itemsize:
            raise InferError(f"cannot reinterpret {t.dtype} as {self.to}: the widths differ")
        return (TensorType(self.to, t.shape),)

    def reference(self, x):
        x = np.asarray(x).astype(x.dtype.newbyteorder("<"), order="C")  # not ascontiguousarray: keeps 0-d
        return (x.view(self.to.newbyteorder("<")).astype(self.to),)

    @classmethod
    def samples(cls):
        return [Sample(cls(DTYPES["i32"]), (np.float32([1.0, -2.0, 0.0]),),
                       lambda x: np.int32([0x3F800000, -0x40000000, 0])),
                Sample(cls(DTYPES["u8"]), (np.array([True, False]),), lambda x: np.uint8([1, 0]))]


@register_op
class Unique(Op):
    """The distinct values (``axis`` None: of the flattened input) or distinct slices along ``axis``,
    ascending (``sorted``, slices compared lexicographically) or in order of first occurrence;
    with int64 first-occurrence indices, inverse indices (input position -> output) and counts."""

    kind: ClassVar[OpKind] = OpKind.SHAPE
    no_samples_reason: ClassVar[str] = "the output length depends on the values: tests/compiler/ops/test_modern.py"
    axis: Optional[int] = None
    sorted: bool = True

    @property
    def num_outputs(self) -> int:
        return 4

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if self.axis is None or t.shape is None:
            y = TensorType(t.dtype, (None,) if self.axis is None else None)
            n = (None if t.shape is None or None in t.shape else int(np.prod(t.shape, dtype=np.int64)),)
            return y, TensorType(_I64, (None,)), TensorType(_I64, n if self.axis is None else (None,)), \
                TensorType(_I64, (None,))
        a = normalize_axes((self.axis,), len(t.shape))[0]
        y = TensorType(t.dtype, t.shape[:a] + (None,) + t.shape[a + 1:])
        return y, TensorType(_I64, (None,)), TensorType(_I64, (t.shape[a],)), TensorType(_I64, (None,))

    def reference(self, x):
        if x.dtype.kind == "f" and np.isnan(x).any():   # the spec does not say whether NaNs are one value
            raise UnimplementedError("Unique of values with NaN: the spec does not say how NaNs compare")
        a = 0 if self.axis is None else normalize_axes((self.axis,), x.ndim)[0]
        moved = x.reshape(-1, 1) if self.axis is None else np.moveaxis(x, a, 0).reshape(x.shape[a], -1)
        rows = [tuple(r) for r in moved.tolist()]
        first: dict = {}
        for i, r in enumerate(rows):
            first.setdefault(r, i)
        keys = sorted(first) if self.sorted else list(first)  # dicts keep first-occurrence order
        where = {k: j for j, k in enumerate(keys)}
        inverse = np.array([where[r] for r in rows], _I64)
        counts = np.bincount(inverse, minlength=len(keys)).astype(_I64)
        indices = np.array([first[k] for k in keys], _I64)
        if self.axis is None:
            y = x.reshape(-1)[indices]
        else:
            y = np.take(x, indices, axis=a)
        return y, indices, inverse, counts


@register_op
class CenterCropPad(Op):
    """Each axis of ``axes`` (None: all) cropped or zero-padded to its ``shape`` entry, centred:
    a crop starts at (dim - size) // 2, a pad puts (size - dim) // 2 zeros before, the rest after."""

    kind: ClassVar[OpKind] = OpKind.SHAPE
    shape: tuple[int, ...] = ()
    axes: Optional[tuple[int, ...]] = None

    def _axes(self, rank: int) -> tuple[int, ...]:
        axes = tuple(range(rank)) if self.axes is None else tuple(a % rank if -rank <= a < rank else None
                                                                  for a in self.axes)
        if None in axes or len(set(axes)) != len(axes) or len(axes) != len(self.shape):
            raise InferError(f"axes {self.axes} do not fit rank {rank} and shape {self.shape}")
        return axes

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.shape is None:
            return (t,)
        out = list(t.shape)
        for a, size in zip(self._axes(len(t.shape)), self.shape):
            out[a] = size
        return (TensorType(t.dtype, tuple(out)),)

    def reference(self, x):
        src = [slice(None)] * x.ndim
        dst = [slice(None)] * x.ndim
        out = list(x.shape)
        for a, size in zip(self._axes(x.ndim), self.shape):
            dim, out[a] = x.shape[a], size
            if size < dim:
                start = (dim - size) // 2
                src[a] = slice(start, start + size)
            else:
                start = (size - dim) // 2
                dst[a] = slice(start, start + dim)
        y = np.zeros(out, x.dtype)
        y[tuple(dst)] = x[tuple(src)]
        return (y,)

    @classmethod
    def samples(cls):
        def expect(x):      # rows 1..3 of 5 kept; 3 columns padded to 4 with one zero column after
            y = np.zeros((3, 4) + x.shape[2:], x.dtype)
            for i, j in np.ndindex(3, 3):
                y[i, j] = x[i + 1, j]
            return y
        x = _rand((5, 3, 2))
        return [Sample(cls((3, 4)), (x[:, :, 0],), expect), Sample(cls((3, 4), axes=(0, -2)), (x,), expect)]


@register_op
class Det(Op):
    """The determinant of each square matrix in the last two axes ([..., M, M] -> [...])."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.dtype not in FLOAT_DTYPES:
            raise InferError(f"expects a float input, got {t.dtype}")
        if t.shape is None:
            return (TensorType(t.dtype, None),)
        if len(t.shape) < 2 or None not in t.shape[-2:] and t.shape[-1] != t.shape[-2]:
            raise InferError(f"expects square matrices in the last two axes, got {t}")
        return (TensorType(t.dtype, t.shape[:-2]),)

    def reference(self, x):
        return (np.asarray(np.linalg.det(x.astype(np.float64))).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(x):  # cofactor expansion along the first row
            a = x.astype(np.float64)
            return np.asarray(a[..., 0, 0] * (a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1])
                              - a[..., 0, 1] * (a[..., 1, 0] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 0])
                              + a[..., 0, 2] * (a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0])
                              ).astype(x.dtype)
        return [Sample(cls(), (_rand((2, 3, 3)),), expect), Sample(cls(), (_rand((3, 3), np.float64),), expect)]
