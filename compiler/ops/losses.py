"""Classification losses over class axis 1 (ONNX semantics).

    NegativeLogLikelihoodLoss(input[N, C, *d], target[N, *d][, weight[C]])
        loss[n, *d] = -input[n, target[n, *d], *d] * weight[target[n, *d]]   (0 where target == ignore_index)
        reduced by ``reduction``: "none" (that tensor), "sum", or "mean" (sum / the sum of the weights used)

The softmax cross-entropy of ONNX is LogSoftmax over axis 1 followed by this
op (the converter emits the pair). Sums are taken in float64 and the result
cast back to the input dtype.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, INT_DTYPES, TensorType

#: The values of ONNX's ``reduction`` attribute.
REDUCTIONS = frozenset({"none", "sum", "mean"})


def picked_terms(logp: np.ndarray, target: np.ndarray, weight: Optional[np.ndarray],
                 ignore_index: Optional[int]) -> tuple[np.ndarray, np.ndarray]:
    """(-logp[n, target, *d] * w, w) in float64, with w = weight[target] and 0 where target is ignored."""
    t = target.astype(np.int64)
    ignored = np.zeros(t.shape, bool) if ignore_index is None else t == ignore_index
    safe = np.where(ignored, 0, t)     # an ignored target may be out of range (-1, C, ...)
    picked = np.take_along_axis(logp.astype(np.float64), safe[:, None], axis=1)[:, 0]
    w = np.ones(t.shape) if weight is None else weight.astype(np.float64)[safe]
    w = np.where(ignored, 0.0, w)
    return -picked * w, w


@register_op
class NegativeLogLikelihoodLoss(Op):
    """-input[n, target[n, *d], *d] * weight[target], 0 where ignored; reduced "none", "sum" or "mean"."""

    kind: ClassVar[OpKind] = OpKind.REDUCTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 2
    reduction: str = "mean"
    ignore_index: Optional[int] = None

    def __post_init__(self):
        if self.reduction not in REDUCTIONS:
            raise InferError(f"reduction must be one of {sorted(REDUCTIONS)}, got {self.reduction!r}")

    def check_arity(self, n: int) -> None:
        if n not in (2, 3):
            raise InferError(f"expects input, target and an optional weight (2 or 3 inputs), got {n}")

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        x, target = inputs[0], inputs[1]
        if x.dtype not in FLOAT_DTYPES or target.dtype not in INT_DTYPES:
            raise InferError(f"expects a float input and an integer target, got {x.dtype} and {target.dtype}")
        if len(inputs) == 3 and inputs[2].dtype != x.dtype:
            raise InferError(f"weight must be {x.dtype} like the input, got {inputs[2].dtype}")
        if x.shape is not None and len(x.shape) < 2:
            raise InferError(f"input must be [N, C, ...], got {x}")
        if x.shape is not None and target.shape is not None:
            want = (x.shape[0],) + tuple(x.shape[2:])
            if len(target.shape) != len(want) or any(None not in (a, b) and a != b
                                                      for a, b in zip(target.shape, want)):
                raise InferError(f"target must be [N, *d] for input {x}, got {target}")
        if self.reduction != "none":
            return (TensorType(x.dtype, ()),)
        shape = target.shape if target.shape is not None else \
            None if x.shape is None else (x.shape[0],) + tuple(x.shape[2:])
        return (TensorType(x.dtype, shape),)

    def reference(self, x, target, weight=None):
        loss, w = picked_terms(x, target, weight, self.ignore_index)
        if self.reduction == "sum":
            loss = loss.sum()
        elif self.reduction == "mean":
            loss = loss.sum() / w.sum()
        return (np.asarray(loss).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(reduction, ii=None):
            def f(x, t, w=None):
                out, total, used = np.zeros(t.shape), 0.0, 0.0
                for idx in np.ndindex(*t.shape):
                    c = int(t[idx])
                    if c == ii:
                        continue
                    wc = 1.0 if w is None else float(w[c])
                    out[idx] = -float(x[(idx[0], c) + idx[1:]]) * wc
                    total, used = total + out[idx], used + wc
                value = {"none": out, "sum": total, "mean": total / used}[reduction]
                return np.asarray(value).astype(x.dtype)
            return f
        x, t = _rand((3, 4)), np.array([0, 3, 1], np.int64)
        x3, t3 = _rand((2, 3, 2), np.float64), np.array([[2, -1], [0, 1]], np.int32)
        return [Sample(cls(), (x, t), expect("mean")),
                Sample(cls(reduction="none"), (x, t, _rand((4,), low=0.5)), expect("none")),
                Sample(cls(reduction="sum", ignore_index=-1), (x3, t3, _rand((3,), np.float64)),
                       expect("sum", -1)),
                Sample(cls(ignore_index=3), (x, t, _rand((4,), low=0.5)), expect("mean", 3))]
