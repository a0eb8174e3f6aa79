"""Transformer-era building blocks (ONNX semantics, opsets 23-28).

    RMSNormalization(X, scale)                X / sqrt(mean(X**2 over axes from ``axis``) + eps) * scale
    RotaryEmbedding(X, cos, sin[, pos])       rotate pairs of each head's first ``rotary_dim`` features
    CausalConvWithState(x, w[, b][, past])    depthwise causal 1-D conv; also the last k-1 padded steps
    Swish(X)                                  X * sigmoid(alpha * X)
    SwiGLU(A, B)                              Swish_alpha(A) * B, A and B of one shape

Statistics and products are computed in float64 (float32 for the fused
activations of f16 data) and cast back to the input's dtype.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from netjit.errors import InvalidArgumentError

from .activations import Activation, activation_samples
from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import Binary, _rand
from .types import FLOAT_DTYPES, TensorType

_ACTIVATIONS = ("none", "silu", "swish")


def _check_float(op: Op, inputs) -> None:
    for t in inputs:
        if t.dtype not in FLOAT_DTYPES:
            raise InferError(f"{op.name} expects float inputs, got {t.dtype}")


def _swish(x: np.ndarray, alpha: float) -> np.ndarray:
    """x * sigmoid(alpha * x) in at least float32."""
    x = x.astype(np.promote_types(x.dtype, np.float32))
    return x / (1 + np.exp(-alpha * x))


@register_op
class RMSNormalization(Op):
    """X / sqrt(mean of X**2 over the axes from ``axis`` on + epsilon) * scale (scale broadcast to X)."""

    kind: ClassVar[OpKind] = OpKind.NORMALIZATION
    arity: ClassVar[int] = 2
    axis: int = -1
    epsilon: float = 1e-5

    def infer(self, x, scale):
        _check_float(self, (x, scale))
        if x.shape is not None and not -len(x.shape) <= self.axis < len(x.shape):
            raise InferError(f"axis {self.axis} is out of range for X {x}")
        return (x,)

    def reference(self, x, scale):
        axes = tuple(range(self.axis % x.ndim, x.ndim))
        wide = x.astype(np.float64)
        rms = np.sqrt((wide * wide).mean(axis=axes, keepdims=True) + self.epsilon)
        return ((wide / rms * scale).astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(axis, eps):
            def f(x, s):
                rows = x.reshape(int(np.prod(x.shape[:axis])), -1).astype(np.float64)
                rms = np.array([np.sqrt(sum(v * v for v in r) / r.size + eps) for r in rows])
                return ((rows / rms[:, None]).reshape(x.shape) * s).astype(x.dtype)
            return f
        x = _rand((2, 3, 4))
        return [Sample(cls(), (x, _rand((4,))), expect(2, 1e-5)),
                Sample(cls(axis=1, epsilon=0.1), (x.astype(np.float64), _rand((3, 4))), expect(1, 0.1))]


@register_op
class RotaryEmbedding(Op):
    """Rotary position embedding of X ([B, H, S, D], or [B, S, H*D] with ``num_heads``).

    The first ``rotary_dim`` (0: all D) features of each head form pairs (x1, x2) (halves, or
    even/odd entries when ``interleaved``), rotated to (cos*x1 - sin*x2, sin*x1 + cos*x2) with
    cos/sin = cache[position_ids] ([B, S, rotary_dim/2]); without position_ids the caches are
    already [B, S, rotary_dim/2]. The other features pass through.
    """

    # not elementwise: each output feature mixes two input features (a linear map per pair)
    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 3
    interleaved: bool = False
    rotary_dim: int = 0
    num_heads: int = 0

    def infer(self, *inputs):
        if len(inputs) not in (3, 4):
            raise InferError(f"expects X, cos_cache, sin_cache and optional position_ids, got {len(inputs)} inputs")
        _check_float(self, inputs[:3])
        x = inputs[0]
        if x.shape is not None and len(x.shape) not in (3, 4):
            raise InferError(f"X must be 3-D or 4-D, got {x}")
        if x.shape is not None and len(x.shape) == 3 and self.num_heads <= 0:
            raise InferError("a 3-D X needs num_heads")
        return (x,)

    def reference(self, x, cos, sin, position_ids=None):
        if x.ndim == 4:     # [B, H, S, D] -> [B, S, H, D]
            heads = np.transpose(x, (0, 2, 1, 3))
        else:
            b, s, hidden = x.shape
            heads = x.reshape(b, s, self.num_heads, hidden // self.num_heads)
        rot = self.rotary_dim or heads.shape[3]
        if position_ids is not None:
            if position_ids.size and not 0 <= position_ids.min() <= position_ids.max() < len(cos):
                raise InvalidArgumentError(f"RotaryEmbedding: position_ids span [{position_ids.min()}, "
                                           f"{position_ids.max()}], the caches hold {len(cos)} positions")
            cos, sin = cos[position_ids], sin[position_ids]
        if cos.shape[-1] != rot // 2 or sin.shape[-1] != rot // 2:
            raise InvalidArgumentError(f"RotaryEmbedding: caches end in {cos.shape[-1]}, {sin.shape[-1]}; "
                                       f"rotary_dim/2 is {rot // 2}")
        cos, sin = cos[:, :, None, :].astype(np.float64), sin[:, :, None, :].astype(np.float64)
        out = heads.astype(np.float64)      # a copy: the pass-through features stay
        first = slice(0, rot, 2) if self.interleaved else slice(0, rot // 2)
        second = slice(1, rot, 2) if self.interleaved else slice(rot // 2, rot)
        x1, x2 = out[..., first].copy(), out[..., second].copy()
        out[..., first] = cos * x1 - sin * x2
        out[..., second] = sin * x1 + cos * x2
        out = np.transpose(out, (0, 2, 1, 3)) if x.ndim == 4 else out.reshape(x.shape)
        return (out.astype(x.dtype),)

    @classmethod
    def samples(cls):
        def expect(op):
            def f(x, cos, sin, pos=None):
                y = x.astype(np.float64)
                b, h, s, d = x.shape
                rot = op.rotary_dim or d
                for i, j, t in np.ndindex(b, h, s):
                    p = pos[i, t] if pos is not None else None
                    for k in range(rot // 2):
                        c = cos[p, k] if pos is not None else cos[i, t, k]
                        n = sin[p, k] if pos is not None else sin[i, t, k]
                        a, z = (2 * k, 2 * k + 1) if op.interleaved else (k, k + rot // 2)
                        y[i, j, t, a] = c * x[i, j, t, a] - n * x[i, j, t, z]
                        y[i, j, t, z] = n * x[i, j, t, a] + c * x[i, j, t, z]
                return y.astype(x.dtype)
            return f
        x, cos, sin = _rand((2, 2, 3, 6)), _rand((5, 3)), _rand((5, 3))
        pos = np.array([[0, 1, 2], [4, 3, 0]], np.int64)
        part = cls(interleaved=True, rotary_dim=4)
        return [Sample(cls(), (x, cos, sin, pos), expect(cls())),
                Sample(part, (x, cos[:, :2], sin[:, :2], pos), expect(part)),
                Sample(cls(), (x, _rand((2, 3, 3)), _rand((2, 3, 3))), expect(cls()))]


@register_op
class CausalConvWithState(Op):
    """Depthwise causal 1-D convolution of x [B, C, L] with w [C, 1, k], after past_state
    [B, C, k-1] (zeros when absent): y[b, c, t] = bias[c] + sum_j w[c, 0, j] * padded[b, c, t + j],
    padded = past ++ x; then SiLU when ``activation`` is "silu" or "swish". Second output:
    the last k-1 steps of padded. ``bias``/``past`` say which optional inputs follow x and w.
    """

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 2
    activation: str = "none"
    bias: bool = False
    past: bool = False

    def __post_init__(self):
        if self.activation not in _ACTIVATIONS:
            raise InvalidArgumentError(f"CausalConvWithState activation must be one of {_ACTIVATIONS}, "
                                       f"got {self.activation!r}")

    @property
    def num_outputs(self) -> int:
        return 2

    def infer(self, *inputs):
        if len(inputs) != 2 + self.bias + self.past:
            raise InferError(f"expects {2 + self.bias + self.past} inputs (bias={self.bias}, "
                             f"past={self.past}), got {len(inputs)}")
        _check_float(self, inputs)
        x, w = inputs[:2]
        if x.shape is not None and len(x.shape) != 3 or w.shape is not None and len(w.shape) != 3:
            raise InferError(f"input and weight must be rank 3, got {x} and {w}")
        k = None if w.shape is None else w.shape[2]
        state = None if x.shape is None else (x.shape[0], x.shape[1], None if k is None else k - 1)
        return (x, TensorType(x.dtype, state))

    def reference(self, x, w, *rest):
        bias = rest[0] if self.bias else None
        past = rest[-1] if self.past else None
        k = w.shape[2]
        if past is None:
            past = np.zeros(x.shape[:2] + (k - 1,), x.dtype)
        padded = np.concatenate([past.astype(x.dtype), x], axis=2)
        wide = padded.astype(np.float64)
        y = sum(w[None, :, 0, j, None] * wide[:, :, j:j + x.shape[2]] for j in range(k))
        if bias is not None:
            y = y + bias[None, :, None]
        y = np.asarray(y).astype(x.dtype)
        if self.activation != "none":
            y = _swish(y, 1.0).astype(x.dtype)
        return y, padded[:, :, padded.shape[2] - (k - 1):]

    @classmethod
    def samples(cls):
        def expect(op):
            def f(x, w, *rest):
                b = rest[0] if op.bias else np.zeros(x.shape[1])
                past = rest[-1] if op.past else np.zeros(x.shape[:2] + (w.shape[2] - 1,))
                full = np.concatenate([past, x], axis=2).astype(np.float64)
                y = np.empty(x.shape)
                for i, c, t in np.ndindex(*x.shape):
                    y[i, c, t] = b[c] + np.dot(w[c, 0], full[i, c, t:t + w.shape[2]])
                if op.activation == "silu":
                    y = y * (1 / (1 + np.exp(-y)))
                return y.astype(x.dtype), full[:, :, x.shape[2]:].astype(x.dtype)
            return f
        x, w, b, past = _rand((2, 3, 5)), _rand((3, 1, 3)), _rand((3,)), _rand((2, 3, 2))
        both = cls("silu", bias=True, past=True)
        return [Sample(cls(), (x, w), expect(cls())), Sample(both, (x, w, b, past), expect(both))]


@register_op
class Swish(Activation):
    """x * sigmoid(alpha * x) (f16 computed in f32)."""

    alpha: float = 1.0

    def apply(self, x, c):
        return _swish(x, self.alpha)

    @classmethod
    def samples(cls):
        return activation_samples(cls, [cls(), cls(0.5)], lambda op, x: x / (1 + np.exp(-op.alpha * x)))


@register_op
class SwiGLU(Binary):
    """Swish_alpha(A) * B = A * sigmoid(alpha * A) * B, for A and B of one shape (f16 computed in f32)."""

    accepts: ClassVar[frozenset] = FLOAT_DTYPES
    alpha: float = 1.0

    def infer(self, a, b):
        _check_float(self, (a, b))
        if a.dtype != b.dtype:
            raise InferError(f"A is {a}, B is {b}: the dtypes differ")
        if a.shape is not None and b.shape is not None and (
                len(a.shape) != len(b.shape) or any(None not in (p, q) and p != q for p, q in zip(a.shape, b.shape))):
            raise InferError(f"A is {a}, B is {b}: SwiGLU does not broadcast")
        return (a if a.shape is not None else b,)

    def reference(self, a, b):
        return ((_swish(a, self.alpha) * b).astype(a.dtype),)

    @classmethod
    def samples(cls):
        a, b = _rand((3, 4)), _rand((3, 4))
        return [Sample(cls(alpha=alpha), (a, b), lambda a, b, alpha=alpha:
                       (a.astype(np.float64) * b / (1 + np.exp(-alpha * a.astype(np.float64)))).astype(a.dtype))
                for alpha in (1.0, 1.702)]
