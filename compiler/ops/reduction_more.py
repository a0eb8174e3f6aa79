"""ONNX's further reductions (Prod, L1, L2, LogSum, LogSumExp, SumSquare) and reductions over
axes that arrive as a tensor at run time.

Over an empty set each gives what ONNX defines: the sums 0, the product 1,
LogSum and LogSumExp -inf. These ops do not derive from ``reduction.Reduce``:
backends lower that family as sums and extrema, which these are not.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

import numpy as np

from .base import OP_REGISTRY, InferError, Op, OpKind, Sample, normalize_axes, register_op
from .elementwise import _rand
from .types import NUMERIC_DTYPES, TensorType


@dataclass(frozen=True, repr=False)
class OnnxReduce(Op):
    """Reduce ``axes`` (None: all) with ``combine``; keep them as size 1 if ``keepdims``."""

    kind: ClassVar[OpKind] = OpKind.REDUCTION
    axes: Optional[tuple] = None
    keepdims: bool = True

    def __post_init__(self):
        if self.axes is not None:
            object.__setattr__(self, "axes", tuple(int(a) for a in self.axes))

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        (t,) = inputs
        if t.dtype not in NUMERIC_DTYPES:
            raise InferError(f"does not accept dtype {t.dtype}")
        if t.shape is None:
            return (TensorType(t.dtype, None),)
        axes = normalize_axes(self.axes, len(t.shape))
        if self.keepdims:
            return (TensorType(t.dtype, tuple(1 if i in axes else d for i, d in enumerate(t.shape))),)
        return (TensorType(t.dtype, tuple(d for i, d in enumerate(t.shape) if i not in axes)),)

    def combine(self, x: np.ndarray, axes: tuple) -> np.ndarray:
        raise NotImplementedError

    def reference(self, x):
        axes = normalize_axes(self.axes, x.ndim)
        with np.errstate(divide="ignore"):   # log(0) = -inf is the defined answer
            out = self.combine(x, axes)
        if not self.keepdims:
            out = np.squeeze(out, axis=axes)
        return (np.asarray(out).astype(x.dtype),)


def _samples(cls, expect):
    x = _rand((3, 4, 5), np.float64, 0.5, 2.0)
    return [Sample(cls(), (x,), lambda x: expect(x.reshape(1, 1, 1, -1))),
            Sample(cls(axes=(1,)), (x,), lambda x: expect(np.moveaxis(x, 1, -1))[:, None]),
            Sample(cls(axes=(-1, 0), keepdims=False), (x,),
                   lambda x: expect(np.moveaxis(x, 0, -1).reshape(4, -1))),
            Sample(cls(axes=(0,), keepdims=False), (_rand((2, 3), np.int32, 1, 3),),
                   lambda x: expect(x.T).astype(np.int32)),
            Sample(cls(axes=(1,)), (np.zeros((2, 0), np.float32),),
                   lambda x: expect(x).astype(np.float32)[:, None])]


def _rows(fn):
    """An independent expectation: ``fn`` of each row of the last axis, in Python floats."""
    return lambda x: np.array([fn([float(v) for v in x[i]]) for i in np.ndindex(*x.shape[:-1])]
                              ).reshape(x.shape[:-1])


@register_op
class ReduceProd(OnnxReduce):
    def combine(self, x, axes):
        return np.prod(x, axis=axes, keepdims=True)

    @classmethod
    def samples(cls):
        return _samples(cls, _rows(lambda r: float(np.prod(np.array(r)))))


@register_op
class ReduceL1(OnnxReduce):
    def combine(self, x, axes):
        return np.sum(np.abs(x), axis=axes, keepdims=True)

    @classmethod
    def samples(cls):
        return _samples(cls, _rows(lambda r: sum(abs(v) for v in r)))


@register_op
class ReduceL2(OnnxReduce):
    def combine(self, x, axes):
        return np.sqrt(np.sum(np.square(x), axis=axes, keepdims=True))

    @classmethod
    def samples(cls):
        return _samples(cls, _rows(lambda r: sum(v * v for v in r) ** 0.5))


@register_op
class ReduceSumSquare(OnnxReduce):
    def combine(self, x, axes):
        return np.sum(np.square(x), axis=axes, keepdims=True)

    @classmethod
    def samples(cls):
        return _samples(cls, _rows(lambda r: sum(v * v for v in r)))


@register_op
class ReduceLogSum(OnnxReduce):
    def combine(self, x, axes):
        return np.log(np.sum(x, axis=axes, keepdims=True))

    @classmethod
    def samples(cls):
        return _samples(cls, _rows(lambda r: np.log(sum(r)) if r else -np.inf))


@register_op
class ReduceLogSumExp(OnnxReduce):
    def combine(self, x, axes):
        x = x.astype(np.result_type(x.dtype, np.float32))
        m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)   # all -inf (or nothing): the sum is 0, the log -inf
        return np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m

    @classmethod
    def samples(cls):
        return _samples(cls, _rows(lambda r: np.log(sum(np.exp(v) for v in r)) if r else -np.inf))


@register_op
class ReduceAxes(Op):
    """The reduction ``fn`` (an op name) over the axes given by the second input at run time.

    Empty axes reduce every axis, or nothing when ``noop_with_empty_axes``
    (ONNX's rule). The output dims depend on the axes' values.
    """

    kind: ClassVar[OpKind] = OpKind.REDUCTION
    arity: ClassVar[int] = 2
    no_samples_reason: ClassVar[str] = ("output shapes depend on the axes' values: "
                                        "tests/compiler/ops/test_reduction_more.py")
    fn: str = "ReduceSum"
    keepdims: bool = True
    noop_with_empty_axes: bool = False

    def __post_init__(self):
        if self.fn not in OP_REGISTRY or OP_REGISTRY[self.fn].kind is not OpKind.REDUCTION:
            raise InferError(f"{self.fn!r} is not a reduction op")

    def bind(self, axes: np.ndarray) -> Optional[Op]:
        """The static reduction for these axes; None when it is the identity."""
        axes = tuple(int(a) for a in np.asarray(axes).reshape(-1))
        if not axes and self.noop_with_empty_axes:
            return None
        return OP_REGISTRY[self.fn](axes=axes or None, keepdims=self.keepdims)

    def infer(self, x, axes):
        (t,) = OP_REGISTRY[self.fn](keepdims=self.keepdims).infer(TensorType(x.dtype, None))
        n = axes.shape[0] if axes.shape is not None and len(axes.shape) == 1 else None
        if x.shape is None or n is None:
            return (TensorType(t.dtype, (None,) * x.rank if x.rank is not None and self.keepdims else None),)
        if n == 0:
            if self.noop_with_empty_axes:
                return (TensorType(t.dtype, x.shape),)
            return (TensorType(t.dtype, (1,) * len(x.shape) if self.keepdims else ()),)
        return (TensorType(t.dtype, (None,) * (len(x.shape) if self.keepdims else len(x.shape) - n)),)

    def reference(self, x, axes):
        op = self.bind(axes)
        return (x,) if op is None else op.reference(x)
