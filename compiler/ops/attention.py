"""Scaled dot-product attention (ONNX ``Attention``, opsets 23-25).

    Attention(Q, K, V[, attn_mask][, past_key, past_value][, nonpad_kv_seqlen])
        -> Y, present_key, present_value, qk_matmul_output

Per head h (a KV head serves ``q_heads / kv_heads`` consecutive query heads):

    K', V'  = concat(past, K), concat(past, V) along the sequence    (= present_key, present_value)
    s       = sqrt(scale), scale defaulting to 1/sqrt(head size); cast to Q's dtype
    raw     = (Q·s) @ (K'·s)ᵀ
    capped  = softcap · tanh(raw / softcap)       (softcap > 0, else raw)
    biased  = capped + bias
    P       = softmax(biased) over keys, in ``softmax_dtype``; a row whose bias is all -inf is 0
    Y       = P @ V'

``bias`` is the float ``attn_mask`` (or 0) where a key is allowed and -inf
where not. A key j is allowed for query i when a boolean ``attn_mask`` says
so, when ``j <= i + offset`` under ``is_causal``, when
``i + offset - left <= j <= i + offset + right`` for a window side given
(>= 0), and when ``j < nonpad_kv_seqlen[b]``. ``offset`` is the past
length, else ``nonpad_kv_seqlen[b] - q_len``, else 0. A mask shorter than
the keys is padded with disallowed keys; masks broadcast right-aligned
against [batch, heads, q, kv]. 3-D inputs are [batch, seq, heads * size]
and are split into ``q_num_heads`` / ``kv_num_heads``; Y is then 3-D too.
``qk_matmul_output`` is raw, capped, biased or P (``qk_output``), in Q's dtype.
"""
from __future__ import annotations

import enum
from typing import ClassVar, Optional

import numpy as np

from .attention_mask import allowed_keys, split_heads
from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, TensorType, as_dtype


class QKOutput(enum.IntEnum):
    """Which stage of the scores ``qk_matmul_output`` shows (ONNX ``qk_matmul_output_mode``)."""

    RAW = 0         # (Q·s) @ (K·s)ᵀ
    SOFTCAPPED = 1  # after softcap
    BIASED = 2      # after adding the mask bias
    SOFTMAX = 3     # the attention probabilities


def _dim_mul(a, b):
    return None if a is None or b is None else a * b


def _dim_add(a, b):
    return None if a is None or b is None else a + b


def softmax_rows(x: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; rows flagged in ``dead`` (no key allowed) are 0."""
    top = x.max(axis=-1, keepdims=True)
    top = np.where(np.isneginf(top) | dead, 0, top).astype(x.dtype)
    e = np.exp(x - top)
    total = e.sum(axis=-1, keepdims=True)
    total = np.where(total == 0, 1, total).astype(x.dtype)
    return np.where(dead, np.zeros((), x.dtype), e / total)


@register_op
class Attention(Op):
    """softmax(softcap((Q·s) @ (K·s)ᵀ) + mask bias) @ V per head, with KV-cache concat and GQA."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 3
    q_num_heads: Optional[int] = None   # 3-D inputs only
    kv_num_heads: Optional[int] = None
    scale: Optional[float] = None       # None: 1/sqrt(head size)
    is_causal: bool = False
    softcap: float = 0.0
    qk_output: int = 0                  # a QKOutput
    softmax_dtype: Optional[np.dtype] = None  # None: Q's dtype
    left_window: int = -1
    right_window: int = -1
    has_mask: bool = False
    has_past: bool = False
    has_nonpad: bool = False

    def __post_init__(self):
        object.__setattr__(self, "qk_output", int(self.qk_output))
        if self.softmax_dtype is not None:
            object.__setattr__(self, "softmax_dtype", as_dtype(self.softmax_dtype))

    @property
    def num_outputs(self) -> int:
        return 4

    def check_arity(self, n: int) -> None:
        want = 3 + self.has_mask + 2 * self.has_past + self.has_nonpad
        if n != want:
            raise InferError(f"expects {want} inputs (Q, K, V{', attn_mask' * self.has_mask}"
                             f"{', past_key, past_value' * self.has_past}"
                             f"{', nonpad_kv_seqlen' * self.has_nonpad}), got {n}")

    def split(self, rest: tuple) -> tuple:
        """(attn_mask, past_key, past_value, nonpad_kv_seqlen) from the inputs after Q, K, V."""
        rest = list(rest)
        mask = rest.pop(0) if self.has_mask else None
        past_k, past_v = (rest.pop(0), rest.pop(0)) if self.has_past else (None, None)
        nonpad = rest.pop(0) if self.has_nonpad else None
        return mask, past_k, past_v, nonpad

    def infer(self, q, k, v, *rest):
        self.check_arity(3 + len(rest))
        mask, past_k, _, _ = self.split(rest)
        if q.dtype not in FLOAT_DTYPES or k.dtype != q.dtype or v.dtype != q.dtype:
            raise InferError(f"expects Q, K and V of one float dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
        if mask is not None and mask.dtype not in (q.dtype, np.dtype(bool)):
            raise InferError(f"attn_mask must be bool or {q.dtype}, got {mask.dtype}")
        if q.shape is None or k.shape is None or v.shape is None:
            return (TensorType(q.dtype, None),) * 4
        rank = len(q.shape)
        if rank not in (3, 4) or len(k.shape) != rank or len(v.shape) != rank:
            raise InferError(f"Q, K and V must all be 3-D or all 4-D, got {q}, {k}, {v}")
        if rank == 3:
            if self.q_num_heads is None or self.kv_num_heads is None:
                raise InferError("3-D inputs need q_num_heads and kv_num_heads")
            b, sq, hq, kvh = q.shape[0], q.shape[1], self.q_num_heads, self.kv_num_heads
            skv, dk = k.shape[1], None if k.shape[2] is None else k.shape[2] // kvh
            dv = None if v.shape[2] is None else v.shape[2] // kvh
        else:
            (b, hq, sq, _), (_, kvh, skv, dk), dv = q.shape, k.shape, v.shape[3]
        if past_k is not None:
            skv = _dim_add(skv, None if past_k.shape is None else past_k.shape[2])
        y = (b, sq, _dim_mul(hq, dv)) if rank == 3 else (b, hq, sq, dv)
        return (TensorType(q.dtype, y), TensorType(q.dtype, (b, kvh, skv, dk)),
                TensorType(q.dtype, (b, kvh, skv, dv)), TensorType(q.dtype, (b, hq, sq, skv)))

    def reference(self, q, k, v, *rest):
        mask, past_k, past_v, nonpad = self.split(rest)
        flat = q.ndim == 3
        if flat:
            q, k, v = (split_heads(q, self.q_num_heads), split_heads(k, self.kv_num_heads),
                       split_heads(v, self.kv_num_heads))
        if past_k is not None:
            k, v = np.concatenate([past_k, k], axis=2), np.concatenate([past_v, v], axis=2)
        present_k, present_v = k, v
        dt = q.dtype
        s = dt.type(np.sqrt(1 / np.sqrt(q.shape[3]) if self.scale is None else self.scale))
        groups = q.shape[1] // k.shape[1]
        kr, vr = np.repeat(k, groups, axis=1), np.repeat(v, groups, axis=1)
        raw = np.matmul(q * s, np.swapaxes(kr * s, -1, -2))
        capped = raw if self.softcap <= 0 else (dt.type(self.softcap) * np.tanh(raw / dt.type(self.softcap)))
        offset = past_k.shape[2] if past_k is not None else (
            nonpad.astype(np.int64).reshape(-1, 1, 1, 1) - q.shape[2] if nonpad is not None else 0)
        ok = allowed_keys(q.shape[2], k.shape[2], mask, offset, self.is_causal,
                          self.left_window, self.right_window, nonpad)
        additive = np.zeros((), dt) if mask is None or mask.dtype == bool else _pad_keys(mask, k.shape[2])
        bias = np.where(ok, additive, dt.type(-np.inf)).astype(dt)
        biased = capped + bias
        dead = np.broadcast_to(np.isneginf(bias.max(axis=-1, keepdims=True)), biased.shape[:-1] + (1,))
        probs = softmax_rows(biased.astype(self.softmax_dtype or dt), dead).astype(dt)
        y = np.matmul(probs, vr)
        if flat:
            y = y.transpose(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], -1)
        stage = {QKOutput.RAW: raw, QKOutput.SOFTCAPPED: capped, QKOutput.BIASED: biased,
                 QKOutput.SOFTMAX: probs}[QKOutput(self.qk_output)]
        stage = np.broadcast_to(stage, raw.shape).astype(dt)
        return y.astype(dt), present_k, present_v, stage

    @classmethod
    def samples(cls):
        rng = np.random.default_rng(5)
        causal_bool = (_rand((2, 4, 3, 5)), _rand((2, 2, 5, 5)), _rand((2, 2, 5, 6)), rng.random((3, 5)) > 0.3)
        flat_past = (_rand((1, 3, 8)), _rand((1, 2, 8)), _rand((1, 2, 6)), _rand((3, 4)),
                     _rand((1, 2, 2, 4)), _rand((1, 2, 2, 3)))
        padded = (_rand((2, 2, 2, 4)), _rand((2, 1, 5, 4)), _rand((2, 1, 5, 4)), np.array([4, 1], np.int64))
        return [Sample(cls(is_causal=True, has_mask=True), causal_bool, _expect(is_causal=True)),
                Sample(cls(q_num_heads=2, kv_num_heads=2, softcap=2.0, scale=0.3, qk_output=QKOutput.BIASED,
                           has_mask=True, has_past=True), flat_past, _expect(heads=2, softcap=2.0, scale=0.3, mode=2)),
                Sample(cls(is_causal=True, left_window=1, qk_output=QKOutput.SOFTMAX, has_nonpad=True), padded,
                       _expect(is_causal=True, left=1, mode=3))]


def _pad_keys(mask: np.ndarray, keys: int) -> np.ndarray:
    """A float mask padded to ``keys`` along its last axis with -inf (keys it does not cover)."""
    short = keys - mask.shape[-1]
    if short <= 0:
        return mask
    return np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, short)], constant_values=-np.inf)


def _expect(heads=None, scale=None, softcap=0.0, is_causal=False, left=-1, mode=0):
    """An independent expectation: one (batch, head, query) at a time, in float64."""
    def f(q, k, v, *rest):
        mask = rest[0] if len(rest) in (1, 3) else None
        past = rest[-2:] if len(rest) >= 2 else None
        nonpad = rest[0] if len(rest) == 1 and rest[0].dtype == np.int64 else None
        mask = None if nonpad is not None else mask
        if heads is not None:
            q, k, v = (x.reshape(x.shape[0], x.shape[1], heads, -1).transpose(0, 2, 1, 3) for x in (q, k, v))
        if past is not None:
            k, v = np.concatenate([past[0], k], 2), np.concatenate([past[1], v], 2)
        b_, hq, sq, d = q.shape
        skv, start = k.shape[2], 0 if past is None else past[0].shape[2]
        y, qk = np.zeros((b_, hq, sq, v.shape[3])), np.zeros((b_, hq, sq, skv))
        for b, h, i in np.ndindex(b_, hq, sq):
            kh = h // (hq // k.shape[1])
            p = i + start if nonpad is None else i + nonpad[b] - sq
            row = np.array([q[b, h, i].astype(float) @ k[b, kh, j].astype(float) for j in range(skv)])
            row *= 1 / np.sqrt(d) if scale is None else scale
            raw = row.copy()
            if softcap:
                row = softcap * np.tanh(row / softcap)
            for j in range(skv):
                m = 0.0 if mask is None else np.broadcast_to(mask, (sq, skv))[i, j]
                keep = (not is_causal or j <= p) and (left < 0 or p - j <= left) and \
                    (nonpad is None or j < nonpad[b]) and (mask is None or mask.dtype != bool or bool(m))
                row[j] += (m if mask is not None and mask.dtype != bool else 0.0) if keep else -np.inf
            w = np.zeros(skv) if np.isneginf(row).all() else np.exp(row - row.max())
            w = w / max(w.sum(), 1e-300)
            y[b, h, i] = w @ v[b, kh].astype(float)
            qk[b, h, i] = {0: raw, 2: row, 3: w}[mode]
        if heads is not None:
            y = y.transpose(0, 2, 1, 3).reshape(b_, sq, -1)
        return y.astype(q.dtype), k, v, qk.astype(q.dtype)
    return f
