"""Linear (de)quantization between floats and small integers (ONNX semantics).

    QuantizeLinear(x, scale[, zero_point])    clip(rint(x / scale) + zero_point) to the range of ``dtype``
    DequantizeLinear(x, scale[, zero_point])  (x - zero_point) * scale, as ``dtype``
    DynamicQuantizeLinear(x)                  u8 quantization with a scale and zero point from x's range

``scale`` and ``zero_point`` are per tensor (a scalar or one element), per
axis (1-D, one per index of ``axis``) or blocked (x's rank, ``axis`` cut into
blocks of ``block_size``). Rounding is half to even.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import DTYPES, FLOAT_DTYPES, TensorType, as_dtype

#: The integer dtypes a quantized tensor may have, and their ranges.
QUANT_DTYPES = frozenset(DTYPES[k] for k in ("i8", "u8", "i16", "u16"))
#: What DequantizeLinear also reads (ONNX allows int32 inputs).
DEQUANT_DTYPES = QUANT_DTYPES | {DTYPES["i32"]}


def expand_param(p: np.ndarray, shape: tuple, axis: int, block_size: int) -> np.ndarray:
    """A scale or zero point shaped to broadcast over x of ``shape``."""
    if p.size == 1 and p.ndim <= 1:
        return p.reshape(())
    axis %= len(shape)
    if block_size:
        return np.repeat(p, block_size, axis=axis)[(slice(None),) * axis + (slice(0, shape[axis]),)]
    return p.reshape(tuple(-1 if i == axis else 1 for i in range(len(shape))))


def check_param(p: TensorType, x: TensorType, axis: int, block_size: int, what: str) -> None:
    """InferError unless ``p`` is a per-tensor, per-axis or blocked parameter for ``x``."""
    if p.shape is None or x.shape is None or (len(p.shape) <= 1 and p.shape in ((), (1,))):
        return
    rank = len(x.shape)
    if not -rank <= axis < rank:
        raise InferError(f"axis {axis} is out of range for x {x}")
    axis %= rank
    if block_size:
        want = tuple(None if d is None else (-(-d // block_size) if i == axis else d) for i, d in enumerate(x.shape))
    else:
        want = (x.shape[axis],)
    if len(p.shape) != len(want) or any(None not in (a, b) and a != b for a, b in zip(p.shape, want)):
        raise InferError(f"{what} {p} fits neither per-tensor, per-axis {axis} nor blocks of {block_size} of x {x}")


class _Linear(Op):
    """x, scale and an optional zero point; the parameter checks shared by both directions."""

    # Not ELEMENTWISE: per-axis and blocked parameters do not broadcast, and there is no scalar form
    # to fuse. Like BatchNormalization's per-channel affine map, these are NORMALIZATION-kind.
    kind: ClassVar[OpKind] = OpKind.NORMALIZATION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 2

    def check_arity(self, n: int) -> None:
        if n not in (2, 3):
            raise InferError(f"expects x, scale and an optional zero_point (2 or 3 inputs), got {n}")

    def check_params(self, inputs, zp_dtype: np.dtype) -> None:
        self.check_arity(len(inputs))
        x, scale = inputs[0], inputs[1]
        if scale.dtype not in FLOAT_DTYPES:
            raise InferError(f"scale must be float, got {scale.dtype}")
        check_param(scale, x, self.axis, self.block_size, "scale")
        if len(inputs) == 3:
            if inputs[2].dtype != zp_dtype:
                raise InferError(f"zero_point must be {zp_dtype}, got {inputs[2].dtype}")
            check_param(inputs[2], x, self.axis, self.block_size, "zero_point")


@register_op
class QuantizeLinear(_Linear):
    """clip(rint(x / scale) + zero_point, range of ``dtype``); the division in ``precision`` if given."""

    axis: int = 1
    block_size: int = 0
    dtype: np.dtype = DTYPES["u8"]
    precision: Optional[np.dtype] = None

    def __post_init__(self):
        object.__setattr__(self, "dtype", as_dtype(self.dtype))
        if self.dtype not in QUANT_DTYPES:
            raise InferError(f"dtype must be one of {sorted(str(d) for d in QUANT_DTYPES)}, got {self.dtype}")
        if self.precision is not None:
            object.__setattr__(self, "precision", as_dtype(self.precision))
            if self.precision not in FLOAT_DTYPES:
                raise InferError(f"precision must be a float dtype, got {self.precision}")

    def infer(self, *inputs):
        self.check_params(inputs, self.dtype)
        if inputs[0].dtype not in FLOAT_DTYPES:
            raise InferError(f"x must be float, got {inputs[0].dtype}")
        return (TensorType(self.dtype, inputs[0].shape),)

    def reference(self, x, scale, zero_point=None):
        scale = expand_param(scale, x.shape, self.axis, self.block_size)
        if self.precision is not None:
            x, scale = x.astype(self.precision), scale.astype(self.precision)
        q = np.rint(x / scale).astype(np.float64)       # clip as floats: +-inf saturate too
        if zero_point is not None:
            q = q + expand_param(zero_point, x.shape, self.axis, self.block_size)
        info = np.iinfo(self.dtype)
        return (np.clip(q, info.min, info.max).astype(self.dtype),)

    @classmethod
    def samples(cls):
        def expect(lo, hi, dtype, axis=None, block=0):
            def f(x, s, z=None):
                y = np.empty(x.shape, dtype)
                for idx in np.ndindex(*x.shape):
                    k = () if s.size == 1 else (idx[axis],) if not block else \
                        idx[:axis] + (idx[axis] // block,) + idx[axis + 1:]
                    v = float(x[idx]) / float(s[k] if s.ndim else s)
                    r = round(v)                              # Python rounds half to even
                    r += 0 if z is None else int(z[k] if z.ndim else z)
                    y[idx] = min(hi, max(lo, r))
                return y
            return f
        x = np.array([[0.0, 2.0, 3.0, 1000.0], [-1.0, -254.0, 0.5, 1.5]], np.float32)
        s = np.float32(2.0)
        return [Sample(cls(), (x, np.asarray(s), np.asarray(128, np.uint8)), expect(0, 255, np.uint8)),
                Sample(cls(axis=0, dtype=DTYPES["i8"]), (x, np.array([1.0, 0.5], np.float32),
                                                         np.array([1, -3], np.int8)), expect(-128, 127, np.int8, 0)),
                Sample(cls(axis=1, block_size=2, dtype=DTYPES["i16"]),
                       (_rand((2, 4)) * 1000, _rand((2, 2), low=0.01, high=0.1)), expect(-32768, 32767, np.int16, 1, 2))]


@register_op
class DequantizeLinear(_Linear):
    """(x - zero_point) * scale, computed exactly in float64 and rounded once to ``dtype``."""

    axis: int = 1
    block_size: int = 0
    dtype: np.dtype = DTYPES["f32"]

    def __post_init__(self):
        object.__setattr__(self, "dtype", as_dtype(self.dtype))
        if self.dtype not in FLOAT_DTYPES:
            raise InferError(f"dtype must be float, got {self.dtype}")

    def infer(self, *inputs):
        if inputs[0].dtype not in DEQUANT_DTYPES:
            raise InferError(f"x must be one of {sorted(str(d) for d in DEQUANT_DTYPES)}, got {inputs[0].dtype}")
        self.check_params(inputs, inputs[0].dtype)
        return (TensorType(self.dtype, inputs[0].shape),)

    def reference(self, x, scale, zero_point=None):
        dx = x.astype(np.float64)
        if zero_point is not None:
            dx = dx - expand_param(zero_point, x.shape, self.axis, self.block_size)
        y = dx * expand_param(scale, x.shape, self.axis, self.block_size).astype(np.float64)
        return (y.astype(self.dtype),)

    @classmethod
    def samples(cls):
        def expect(axis=None):
            def f(x, s, z=None):
                y = np.empty(x.shape, np.float32)
                for idx in np.ndindex(*x.shape):
                    k = () if axis is None else (idx[axis],)
                    y[idx] = (int(x[idx]) - (0 if z is None else int(z[k]))) * float(s[k])
                return y
            return f
        x = np.array([[0, 3, 128, 255], [1, 2, 254, 7]], np.uint8)
        return [Sample(cls(), (x, np.asarray(2.0, np.float32), np.asarray(128, np.uint8)), expect()),
                Sample(cls(axis=0), (x.astype(np.int32) - 100, np.array([0.5, 3.0], np.float32)), expect(0))]


@register_op
class DynamicQuantizeLinear(Op):
    """u8 y, scale, zero point: scale = (max(0, max x) - min(0, min x)) / 255 (1 if that range is 0),
    zero point = clip(rint(-min(0, min x) / scale), 0, 255), y = clip(rint(x / scale) + zero point, 0, 255);
    arithmetic in float32, as the spec's formulas are."""

    kind: ClassVar[OpKind] = OpKind.NORMALIZATION

    @property
    def num_outputs(self) -> int:
        return 3

    def infer(self, x):
        if x.dtype != DTYPES["f32"]:
            raise InferError(f"x must be f32, got {x.dtype}")
        u8 = DTYPES["u8"]
        return (TensorType(u8, x.shape), TensorType(x.dtype, ()), TensorType(u8, ()))

    def reference(self, x):
        f32 = np.float32
        hi, lo = f32(max(0.0, x.max(initial=0.0))), f32(min(0.0, x.min(initial=0.0)))
        scale = f32(1.0) if hi == lo else f32(hi - lo) / f32(255)   # all zero: any scale gives y = 0
        zp = np.clip(np.rint(f32(0) - lo / scale), 0, 255)
        y = np.clip(np.rint(x / scale) + zp, 0, 255)
        return y.astype(np.uint8), np.asarray(scale, f32), np.asarray(zp, np.uint8)

    @classmethod
    def samples(cls):
        def expect(x):
            hi, lo = max(0.0, float(x.max())), min(0.0, float(x.min()))
            scale = np.float32(np.float32(hi - lo) / np.float32(255.0))
            zp = min(255, max(0, round(float(np.float32(-lo) / scale))))
            y = [min(255, max(0, round(float(np.float32(v) / scale)) + zp)) for v in x.ravel()]
            return np.array(y, np.uint8).reshape(x.shape), np.asarray(scale), np.asarray(zp, np.uint8)
        return [Sample(cls(), (np.array([[0.0, 2.0, -3.0], [1000.0, -1.5, 7.25]], np.float32),), expect),
                Sample(cls(), (np.array([1.0, 2.5, 25.5], np.float32),), expect)]
