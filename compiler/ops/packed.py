"""``PackedMatMul``: a product by a weight packed into panels at compile time.

The numba backend's ``prepack_weights`` pass (``passes/prepack_weights.py``)
makes it from ``MatMul(a, Const w)``; the numba backend lowers it to netjit's
packed GEMM kernel (``backends/numba/lowerings.py``), and the reference
backend runs ``reference()`` (unpacks the panels and multiplies).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .types import TensorType


def pack_panels(b: np.ndarray, width: int) -> np.ndarray:
    """B (K x N) as float32 panels of shape (ceil(N / width), K, width), zero-padded past N:
    ``packed[p, k]`` holds B[k, p*width : p*width + width] (``native.gemm.pack``'s layout)."""
    k, n = b.shape
    panels = -(-n // width)
    padded = np.zeros((k, panels * width), np.float32)
    padded[:, :n] = b
    return np.ascontiguousarray(padded.reshape(k, panels, width).transpose(1, 0, 2))


def unpack_panels(packed: np.ndarray, n: int) -> np.ndarray:
    """B (K x n) from its panels: the inverse of ``pack_panels``."""
    return packed.transpose(1, 0, 2).reshape(packed.shape[1], -1)[:, :n]


@register_op
class PackedMatMul(Op):
    """``a @ B`` (+ ``bias``, the optional third input; then ReLU if ``relu``) for a
    float32 ``a`` of rank >= 2 (leading dims are rows, as in a transformer's
    (batch, tokens, features) activations), with B given as its packed panels
    (``gemm.pack``); ``n`` is B's column count; ``parallel``: large products may
    run on numba's threads."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 2
    n: int = 0
    relu: bool = False
    parallel: bool = True

    def infer(self, a, packed, *bias):
        ok = (a.dtype == np.float32 and packed.dtype == np.float32 and a.rank is not None and a.rank >= 2
              and packed.rank == 3 and len(bias) <= 1
              and all(b.dtype == np.float32 and b.shape in ((self.n,), (None,)) for b in bias))
        if not ok:
            raise InferError(f"expects float32 rows (rank >= 2), packed float32 panels and optionally a "
                             f"float32 bias of {self.n}, got {', '.join(map(str, (a, packed) + bias))}")
        return (TensorType(np.float32, tuple(a.shape[:-1]) + (self.n,)),)

    def reference(self, a, packed, *bias):
        out = np.matmul(a, unpack_panels(packed, self.n))
        if bias:
            out = out + bias[0]
        return ((np.maximum(out, 0) if self.relu else out).astype(np.float32),)

    @classmethod
    def samples(cls):
        rng = np.random.default_rng(11)
        a = rng.standard_normal((3, 5)).astype(np.float32)
        t = rng.standard_normal((2, 3, 5)).astype(np.float32)
        w = rng.standard_normal((5, 7)).astype(np.float32)
        bias = rng.standard_normal(7).astype(np.float32)
        packed = pack_panels(w, 4)
        return [Sample(cls(n=7), (a, packed), lambda a, p: a @ w),
                Sample(cls(n=7, relu=True), (t, packed, bias), lambda t, p, b: np.maximum(t @ w + b, 0))]
