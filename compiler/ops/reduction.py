"""Reductions over axes, and Softmax (a reduction fed back elementwise)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import DTYPES, FLOAT_DTYPES, NUMERIC_DTYPES, TensorType


@dataclass(frozen=True)
class Reduce(Op):
    """Reduce ``axes`` (None: all); keep them as size 1 if ``keepdims`` (ONNX default)."""

    kind: ClassVar[OpKind] = OpKind.REDUCTION
    numpy_fn: ClassVar = None
    #: The value a reduction starts from, for generated loops.
    init: ClassVar[str] = "0"
    axes: Optional[tuple] = None
    keepdims: bool = True

    def __post_init__(self):
        if self.axes is not None:
            object.__setattr__(self, "axes", tuple(int(a) for a in self.axes))

    def out_dtype(self, dtype):
        return dtype

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.dtype not in NUMERIC_DTYPES:
            raise InferError(f"does not accept dtype {t.dtype}")
        if t.shape is None:
            return (TensorType(self.out_dtype(t.dtype), None),)
        axes = normalize_axes(self.axes, len(t.shape))
        if self.keepdims:
            shape = tuple(1 if i in axes else d for i, d in enumerate(t.shape))
        else:
            shape = tuple(d for i, d in enumerate(t.shape) if i not in axes)
        return (TensorType(self.out_dtype(t.dtype), shape),)

    def reference(self, x):
        axes = normalize_axes(self.axes, x.ndim)
        kw = {}
        if self.init in ("-inf", "inf") and any(x.shape[a] == 0 for a in axes):
            # over nothing: the identity (-inf, or the dtype's lowest, for a max), as
            # TensorFlow and ONNX give and the code generators compute; NumPy raises
            kw["initial"] = _identity(x.dtype, self.init)
        out = type(self).numpy_fn(x, axis=axes, keepdims=self.keepdims, **kw)
        return (np.asarray(out, dtype=self.infer(TensorType.of(x))[0].dtype),)


def _identity(dtype, init: str):
    """``init`` ("-inf" or "inf") in ``dtype``: the infinity, or the integer extreme."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return -np.inf if init == "-inf" else np.inf
    if dt.kind == "b":
        return init != "-inf"
    info = np.iinfo(dt)
    return info.min if init == "-inf" else info.max


def _reduce_samples(cls, expect):
    x = _rand((3, 4, 5))
    return [Sample(cls(), (x,), lambda x: expect(x, (0, 1, 2), True)),
            Sample(cls(axes=(1,)), (x,), lambda x: expect(x, (1,), True)),
            Sample(cls(axes=(-1, 0), keepdims=False), (x,), lambda x: expect(x, (0, 2), False)),
            Sample(cls(axes=(0,), keepdims=False), (_rand((4, 2), np.int32),),
                   lambda x: expect(x, (0,), False))]


def _loop_reduce(fn):
    """An independent expectation: reduce one axis at a time with ``fn``."""
    def expect(x, axes, keepdims):
        out = x
        for a in sorted(axes, reverse=True):
            out = fn(np.moveaxis(out, a, 0))
            out = np.expand_dims(out, a)
        return out if keepdims else np.squeeze(out, axis=axes)
    return expect


@register_op
class ReduceSum(Reduce):
    identity: ClassVar[float] = 0
    numpy_fn: ClassVar = staticmethod(np.sum)

    @classmethod
    def samples(cls):
        return _reduce_samples(cls, _loop_reduce(lambda a: sum(a[i] for i in range(len(a)))))


@register_op
class ReduceMean(Reduce):
    numpy_fn: ClassVar = staticmethod(np.mean)

    def out_dtype(self, dtype):
        return dtype if dtype in FLOAT_DTYPES else DTYPES["f64"]

    @classmethod
    def samples(cls):
        return _reduce_samples(cls, _loop_reduce(lambda a: sum(a[i] for i in range(len(a))) / len(a)))


@register_op
class ReduceMax(Reduce):
    init: ClassVar[str] = "-inf"
    numpy_fn: ClassVar = staticmethod(np.max)

    @classmethod
    def samples(cls):
        return _reduce_samples(cls, _loop_reduce(lambda a: np.sort(a, axis=0)[-1]))


@register_op
class ReduceMin(Reduce):
    init: ClassVar[str] = "inf"
    numpy_fn: ClassVar = staticmethod(np.min)

    @classmethod
    def samples(cls):
        return _reduce_samples(cls, _loop_reduce(lambda a: np.sort(a, axis=0)[0]))


@dataclass(frozen=True, repr=False)
class AlongAxis(Op):
    """A float op normalising along one ``axis`` (Softmax and its siblings)."""

    kind: ClassVar[OpKind] = OpKind.NORMALIZATION
    axis: int = -1

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.dtype not in FLOAT_DTYPES:
            raise InferError(f"expects a float input, got {t.dtype}")
        if t.shape is not None:
            normalize_axes((self.axis,), len(t.shape))
        return (t,)


@register_op
class Softmax(AlongAxis):
    """exp(x - max(x)) / sum(exp(x - max(x))) along ``axis`` (ONNX 13 semantics)."""

    def reference(self, x):
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        return ((e / np.sum(e, axis=self.axis, keepdims=True)).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(axis):
            def f(x):
                e = np.exp(np.asarray(x, np.float64))
                return e / e.sum(axis=axis, keepdims=True)
            return f
        return [Sample(cls(), (_rand((3, 5)),), expect(-1)),
                Sample(cls(axis=0), (_rand((4, 2), np.float64),), expect(0))]
