"""Linear attention: a recurrent state per KV head instead of a softmax over keys (ONNX ``LinearAttention``).

    LinearAttention(query, key, value[, past_state][, decay][, beta]) -> output, present_state

query/key/value are packed [B, T, heads * size]; the state S is [B, H_kv, d_k, d_v]
(zeros without ``past_state``). For each token t, with g_t = decay (log space, per
head or per key dim) and β_t = beta (per head or shared):

    linear       S = S + k ⊗ v
    gated        S = exp(g) S + k ⊗ v
    delta        S = S + β k ⊗ (v - Sᵀk)
    gated_delta  S = exp(g) S + β k ⊗ (v - (exp(g) S)ᵀk)
    o_t = scale · qᵀ S     (query head h reads KV head h // (H_q / H_kv))

``scale`` 0 means 1/sqrt(d_k). The math runs in float32 (float64 for f64
inputs); output is in query's dtype, present_state in past_state's (else query's).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from .attention_mask import merge_heads, split_heads
from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, TensorType

#: The update rules that decay the state by exp(decay), and those that correct by the delta rule.
GATED_RULES = frozenset({"gated", "gated_delta"})
DELTA_RULES = frozenset({"delta", "gated_delta"})
UPDATE_RULES = frozenset({"linear"}) | GATED_RULES | DELTA_RULES


def _per_head(x: np.ndarray, heads: int) -> np.ndarray:
    """A packed [B, T, n] gate as [B, heads or 1, T, n // heads or 1], broadcasting over the state."""
    b, t, n = x.shape
    if n in (1, heads):
        return x.reshape(b, t, n, 1).transpose(0, 2, 1, 3)
    return split_heads(x, heads)


@register_op
class LinearAttention(Op):
    """Recurrent linear attention: S_t from S_{t-1} by ``update_rule``, o_t = scale · q_tᵀ S_t."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 3
    q_num_heads: int = 1
    kv_num_heads: int = 1
    update_rule: str = "gated_delta"
    scale: float = 0.0
    has_past: bool = False

    def __post_init__(self):
        if self.update_rule not in UPDATE_RULES:
            raise InferError(f"update_rule must be one of {sorted(UPDATE_RULES)}, got {self.update_rule!r}")
        if self.q_num_heads <= 0 or self.kv_num_heads <= 0 or self.q_num_heads % self.kv_num_heads:
            raise InferError(f"q_num_heads {self.q_num_heads} is not a multiple of kv_num_heads {self.kv_num_heads}")

    @property
    def num_outputs(self) -> int:
        return 2

    def check_arity(self, n: int) -> None:
        want = 3 + self.has_past + (self.update_rule in GATED_RULES) + (self.update_rule in DELTA_RULES)
        if n != want:
            raise InferError(f"update_rule {self.update_rule!r} with{'' if self.has_past else 'out'} past_state "
                             f"expects {want} inputs, got {n}")

    def infer(self, q, k, v, *rest):
        self.check_arity(3 + len(rest))
        if q.dtype not in FLOAT_DTYPES:
            raise InferError(f"expects float inputs, got {q.dtype}")
        state_dtype = rest[0].dtype if self.has_past else q.dtype
        for t in (q, k, v):
            if t.shape is not None and len(t.shape) != 3:
                raise InferError(f"query, key and value must be [B, T, heads * size], got {t}")
        if q.shape is None or k.shape is None or v.shape is None:
            return TensorType(q.dtype, None), TensorType(state_dtype, None)
        dk = None if k.shape[2] is None else k.shape[2] // self.kv_num_heads
        dv = None if v.shape[2] is None else v.shape[2] // self.kv_num_heads
        out = (q.shape[0], q.shape[1], None if dv is None else dv * self.q_num_heads)
        return TensorType(q.dtype, out), TensorType(state_dtype, (q.shape[0], self.kv_num_heads, dk, dv))

    def reference(self, q, k, v, *rest):
        rest = list(rest)
        past = rest.pop(0) if self.has_past else None
        decay = rest.pop(0) if self.update_rule in GATED_RULES else None
        beta = rest.pop(0) if self.update_rule in DELTA_RULES else None
        work = np.promote_types(q.dtype, np.float32)
        q4, k4, v4 = (split_heads(x, h).astype(work) for x, h in
                      ((q, self.q_num_heads), (k, self.kv_num_heads), (v, self.kv_num_heads)))
        b, hkv, steps, dk = k4.shape
        state = np.zeros((b, hkv, dk, v4.shape[3]), work) if past is None else past.astype(work)
        gate = None if decay is None else np.exp(_per_head(decay, hkv).astype(work))
        rate = None if beta is None else _per_head(beta, hkv).astype(work)
        scale = self.scale or 1 / np.sqrt(q.shape[2] // self.q_num_heads)
        group = self.q_num_heads // self.kv_num_heads
        out = np.empty((b, self.q_num_heads, steps, v4.shape[3]), work)
        for t in range(steps):
            kt, vt = k4[:, :, t], v4[:, :, t]
            if gate is not None:
                state = state * gate[:, :, t][..., None]         # per head [.., 1, 1] or per key dim [.., d_k, 1]
            if rate is not None:
                vt = rate[:, :, t] * (vt - np.einsum("bhkv,bhk->bhv", state, kt))
            state = state + kt[..., :, None] * vt[..., None, :]
            out[:, :, t] = scale * np.einsum("bhk,bhkv->bhv", q4[:, :, t], np.repeat(state, group, axis=1))
        state_dtype = q.dtype if past is None else past.dtype
        return merge_heads(out).astype(q.dtype), state.astype(state_dtype)

    @classmethod
    def samples(cls):
        def unit(shape, heads):   # the delta rule wants L2-normalized keys
            x = _rand(shape).reshape(shape[0], shape[1], heads, -1)
            return (x / np.linalg.norm(x, axis=-1, keepdims=True)).reshape(shape).astype(np.float32)
        b, t = 2, 3
        rng = np.random.default_rng(3)
        gated_delta = (_rand((b, t, 8)), unit((b, t, 4), 2), _rand((b, t, 6)), _rand((b, 2, 2, 3)),
                       -rng.random((b, t, 2)).astype(np.float32), rng.random((b, t, 1)).astype(np.float32))
        gated = (_rand((b, t, 4)), _rand((b, t, 4)), _rand((b, t, 4)), -rng.random((b, t, 4)).astype(np.float32))
        return [Sample(cls(q_num_heads=4, kv_num_heads=2, has_past=True), gated_delta, _expect(4, 2, True)),
                Sample(cls(q_num_heads=2, kv_num_heads=2, update_rule="gated", scale=0.5), gated,
                       _expect(2, 2, False, rule="gated", scale=0.5))]


def _expect(hq, hkv, has_past, rule="gated_delta", scale=None):
    """An independent expectation: one (batch, query head) at a time, token by token, in float64."""
    def f(q, k, v, *rest):
        rest = list(rest)
        past = rest.pop(0) if has_past else None
        decay = rest.pop(0) if "gated" in rule else None
        beta = rest.pop(0) if "delta" in rule else None
        b_, steps = q.shape[:2]
        dk, dv = k.shape[2] // hkv, v.shape[2] // hkv
        out, states = np.zeros((b_, steps, hq * dv)), np.zeros((b_, hkv, dk, dv))
        for b, h in np.ndindex(b_, hkv):
            s = np.zeros((dk, dv)) if past is None else past[b, h].astype(float)
            for t in range(steps):
                kt, vt = k[b, t, h * dk:(h + 1) * dk].astype(float), v[b, t, h * dv:(h + 1) * dv].astype(float)
                if decay is not None:
                    g = decay[b, t, h] if decay.shape[2] == hkv else decay[b, t, h * dk:(h + 1) * dk]
                    s = s * np.exp(np.asarray(g, float)).reshape(-1, 1)
                if beta is not None:
                    vt = beta[b, t, min(h, beta.shape[2] - 1)] * (vt - s.T @ kt)
                s = s + np.outer(kt, vt)
                for hq_ in range(h * (hq // hkv), (h + 1) * (hq // hkv)):
                    qt = q[b, t, hq_ * dk:(hq_ + 1) * dk].astype(float)
                    out[b, t, hq_ * dv:(hq_ + 1) * dv] = (scale or 1 / np.sqrt(dk)) * (qt @ s)
            states[b, h] = s
        return out.astype(q.dtype), states.astype(q.dtype if past is None else past.dtype)
    return f
