"""Image ops that undo a sliding window: Col2Im (fold) and MaxUnpool.

    Col2Im(f32[1, 4, 6], image_shape=(3, 4), block_shape=(2, 2)) -> f32[1, 1, 3, 4], overlapping blocks summed
    MaxUnpool(f32[1, 1, 2, 2], i64 indices, kernel=(2, 2), strides=(2, 2)) -> f32[1, 1, 4, 4], zeros elsewhere
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from netjit.errors import UnimplementedError

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import INT_DTYPES, NUMERIC_DTYPES, TensorType


def _per_axis(values: tuple, n: int, default: int, what: str) -> tuple:
    values = values or (default,) * n
    if len(values) != n:
        raise InferError(f"{what} {values} has {len(values)} entries, expected {n}")
    return tuple(values)


@register_op
class Col2Im(Op):
    """Sum column blocks back into an image: input [N, C*prod(block_shape), L] -> [N, C, *image_shape].

    Column l (blocks in row-major order over the sliding positions) holds, for each channel and
    block offset k, the pixel at position p*strides - pads_begin + k*dilations of the image;
    overlapping contributions add, positions in the padding are dropped.
    """

    kind: ClassVar[OpKind] = OpKind.SHAPE
    image_shape: tuple[int, ...] = ()
    block_shape: tuple[int, ...] = ()
    dilations: tuple[int, ...] = ()
    pads: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()

    def _geometry(self) -> tuple:
        n = len(self.image_shape)
        if len(self.block_shape) != n:
            raise InferError(f"image_shape {self.image_shape} and block_shape {self.block_shape} differ in length")
        dil = _per_axis(self.dilations, n, 1, "dilations")
        strides = _per_axis(self.strides, n, 1, "strides")
        pads = _per_axis(self.pads, 2 * n, 0, "pads")
        blocks = tuple((img + pads[d] + pads[n + d] - (dil[d] * (blk - 1) + 1)) // strides[d] + 1
                       for d, (img, blk) in enumerate(zip(self.image_shape, self.block_shape)))
        return dil, strides, pads, blocks

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if self.image_shape or self.block_shape:    # both empty: not bound yet (FromInputs)
            self._geometry()
        if t.dtype not in NUMERIC_DTYPES:
            raise InferError(f"does not accept dtype {t.dtype}")
        if t.shape is None:
            return (TensorType(t.dtype, (None, None) + tuple(self.image_shape)),)
        if len(t.shape) != 3:
            raise InferError(f"expects [N, C*prod(block_shape), L], got {t}")
        cb, per = t.shape[1], int(np.prod(self.block_shape))
        if cb is not None and cb % per:
            raise InferError(f"dim 1 of {t} is not a multiple of prod(block_shape) = {per}")
        return (TensorType(t.dtype, (t.shape[0], None if cb is None else cb // per) + tuple(self.image_shape)),)

    def reference(self, x):
        dil, strides, pads, blocks = self._geometry()
        n = len(self.image_shape)
        if x.shape[2] != int(np.prod(blocks)):
            raise InferError(f"Col2Im: {x.shape[2]} columns, but the geometry gives {blocks} blocks")
        cols = x.reshape((x.shape[0], -1) + tuple(self.block_shape) + blocks)
        padded = np.zeros(cols.shape[:2] + tuple(img + pads[d] + pads[n + d]
                                                 for d, img in enumerate(self.image_shape)), x.dtype)
        for k in np.ndindex(*self.block_shape):
            at = tuple(slice(k[d] * dil[d], k[d] * dil[d] + strides[d] * (blocks[d] - 1) + 1, strides[d])
                       for d in range(n))
            padded[(slice(None), slice(None)) + at] += cols[(slice(None), slice(None)) + k]
        inner = tuple(slice(pads[d], pads[d] + img) for d, img in enumerate(self.image_shape))
        return (padded[(slice(None), slice(None)) + inner],)

    @classmethod
    def samples(cls):
        def expect(op):
            def f(x):   # scatter each column entry to its pixel, one at a time
                dil, strides, pads, blocks = op._geometry()
                y = np.zeros((x.shape[0], x.shape[1] // 4) + op.image_shape, np.float64)
                for b, row, col in np.ndindex(*x.shape):
                    c, (ki, kj) = divmod(row, 4)[0], divmod(row % 4, 2)
                    pi, pj = divmod(col, blocks[1])
                    i = pi * strides[0] - pads[0] + ki * dil[0]
                    j = pj * strides[1] - pads[1] + kj * dil[1]
                    if 0 <= i < op.image_shape[0] and 0 <= j < op.image_shape[1]:
                        y[b, c, i, j] += x[b, row, col]
                return y.astype(x.dtype)
            return f
        plain, fancy = cls((3, 4), (2, 2)), cls((4, 5), (2, 2), dilations=(1, 2), pads=(1, 0, 1, 1), strides=(2, 1))
        return [Sample(plain, (_rand((2, 8, 6)),), expect(plain)),
                Sample(fancy, (_rand((1, 4, 12), np.float64),), expect(fancy))]


@register_op
class MaxUnpool(Op):
    """Zeros of the MaxPool input's shape, with X[i] written at the flat position I[i].

    The shape is [N, C, (D - 1) * strides - pads_begin - pads_end + kernel_shape, ...];
    ``output_shape``, when given, must equal it: the spec's indices count in the output's
    layout, its conformance case in the inferred one, so netjit refuses a different one.
    """

    kind: ClassVar[OpKind] = OpKind.SHAPE
    arity: ClassVar[int] = 2
    kernel_shape: tuple[int, ...] = ()
    pads: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()
    output_shape: Optional[tuple[int, ...]] = None

    def _spatial(self, dims: tuple) -> tuple:
        n = len(self.kernel_shape)
        if len(dims) != n:
            raise InferError(f"X has {len(dims)} spatial axes, kernel_shape {self.kernel_shape} has {n}")
        strides, pads = _per_axis(self.strides, n, 1, "strides"), _per_axis(self.pads, 2 * n, 0, "pads")
        return tuple(None if d is None else (d - 1) * strides[i] - pads[i] - pads[n + i] + self.kernel_shape[i]
                     for i, d in enumerate(dims))

    def infer(self, x, indices):
        if indices.dtype not in INT_DTYPES:
            raise InferError(f"indices must be integers, got {indices.dtype}")
        if x.shape is None:
            return (TensorType(x.dtype, None if self.output_shape is None else self.output_shape),)
        shape = x.shape[:2] + self._spatial(x.shape[2:])
        if self.output_shape is not None:
            self._check_output_shape(shape)
        return (TensorType(x.dtype, shape),)

    def _check_output_shape(self, shape: tuple) -> None:
        if len(self.output_shape) != len(shape) or any(d is not None and d != o
                                                       for d, o in zip(shape, self.output_shape)):
            raise UnimplementedError(f"MaxUnpool output_shape {self.output_shape} differs from the unpooled "
                                     f"shape {shape}: where the indices land is ambiguous")

    def reference(self, x, indices):
        shape = x.shape[:2] + self._spatial(x.shape[2:])
        if self.output_shape is not None:
            self._check_output_shape(shape)
        y = np.zeros(int(np.prod(shape)), x.dtype)
        y[indices.reshape(-1)] = x.reshape(-1)
        return (y.reshape(shape),)

    @classmethod
    def samples(cls):
        def expect(x, i):
            y = np.zeros((1, 2, 4, 3), x.dtype)
            for idx in np.ndindex(*x.shape):
                n, rest = divmod(int(i[idx]), 24)
                c, rest = divmod(rest, 12)
                y[n, c, rest // 3, rest % 3] = x[idx]
            return y
        x, i = _rand((1, 2, 2, 2)), np.array([[[[0, 2], [10, 7]], [[12, 17], [19, 23]]]], np.int64)
        return [Sample(cls((2, 2), pads=(0, 0, 0, 1), strides=(2, 2)), (x, i), expect)]
