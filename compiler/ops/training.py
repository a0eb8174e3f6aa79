"""Training-time ops that are pure functions of their inputs (ONNX ``ai.onnx.preview.training`` and
the deterministic training modes of default-domain ops).

    Momentum(R, T, X1..n, G1..n, V1..n)       -> X1..n_new, V1..n_new      (standard or Nesterov)
    Adagrad(R, T, X1..n, G1..n, H1..n)        -> X1..n_new, H1..n_new
    Adam(R, T, X1..n, G1..n, V1..n, H1..n)    -> X1..n_new, V1..n_new, H1..n_new
    BatchNormalizationTraining(X, scale, B, mean, var) -> Y, running_mean, running_var
        (batch statistics over every axis but 1; running = input * momentum + batch * (1 - momentum))
    DropoutTraining(X, ratio, training_mode)  -> Y, mask
        (the identity and an all-true mask unless training with ratio > 0, which raises at run
        time: a random mask is implementation-defined)

R is the (scalar) learning rate, T the (scalar) update count. The updates are
computed in float64 and cast back to each tensor's dtype.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from netjit.errors import UnimplementedError

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import FLOAT_DTYPES, INT_DTYPES, TensorType, as_dtype


@dataclass(frozen=True, repr=False)
class _Optimizer(Op):
    """R, T, then ``groups`` lists of ``n`` tensors (X, G, then the optimizer's state)."""

    kind: ClassVar[OpKind] = OpKind.ELEMENTWISE
    arity: ClassVar = None
    #: Tensor lists among the inputs (X, G and the state ones), and state lists among the outputs.
    groups: ClassVar[int] = 3
    n: int = 1

    @property
    def num_outputs(self) -> int:
        return (self.groups - 1) * self.n

    def infer(self, *inputs):
        n, g = self.n, self.groups
        if n < 1:
            raise InferError(f"n must be at least 1, got {n}")
        if len(inputs) != 2 + g * n:
            raise InferError(f"expects R, T and {g} lists of {n} tensors ({2 + g * n} inputs), got {len(inputs)}")
        r, t = inputs[:2]
        if r.dtype not in FLOAT_DTYPES or (r.shape is not None and len(r.shape) != 0):
            raise InferError(f"R must be a float scalar, got {r}")
        if t.dtype not in INT_DTYPES or (t.shape is not None and len(t.shape) != 0):
            raise InferError(f"T must be an integer scalar, got {t}")
        lists = [inputs[2 + k * n: 2 + (k + 1) * n] for k in range(g)]
        for i in range(n):
            x = lists[0][i]
            if x.dtype not in FLOAT_DTYPES:
                raise InferError(f"X{i + 1} must be float, got {x}")
            for other in (lst[i] for lst in lists[1:]):
                if other.dtype != x.dtype or (None not in (x.shape, other.shape) and
                                              len(x.shape) != len(other.shape)):
                    raise InferError(f"the tensors of X{i + 1} must match it, got {x} and {other}")
        outs = [lists[0][i] for i in range(n)]
        for lst in lists[2:]:
            outs += [lst[i] for i in range(n)]
        return tuple(outs)

    def reference(self, r, t, *tensors):
        n = self.n
        lists = [tensors[k * n:(k + 1) * n] for k in range(self.groups)]
        r, t = float(np.asarray(r)), int(np.asarray(t))
        results = [self.update(r, t, *[np.asarray(lst[i], np.float64) for lst in lists]) for i in range(n)]
        dtypes = [np.asarray(x).dtype for x in lists[0]]
        return tuple(results[i][k].astype(dtypes[i]) for k in range(self.groups - 1) for i in range(n))

    def update(self, r: float, t: int, x, g, *state) -> tuple:
        raise NotImplementedError


def _inputs(n: int, groups: int, shapes=((2,), (3, 2)), dtype=np.float32) -> tuple:
    r, t = np.asarray(0.1, dtype), np.asarray(3, np.int64)
    lists = [[_rand(shapes[i], dtype=dtype) for i in range(n)] for _ in range(groups)]
    return (r, t, *[x for lst in lists for x in lst])


@register_op
class Momentum(_Optimizer):
    """ONNX Momentum: v' = alpha v + beta' (G + norm X) (beta' = 1 at T = 0);
    X' = X - R v' (standard) or X - R (G + norm X + alpha v') (Nesterov)."""

    alpha: float = 0.9
    beta: float = 1.0
    norm_coefficient: float = 0.0
    nesterov: bool = False

    def update(self, r, t, x, g, v):
        g = self.norm_coefficient * x + g
        v_new = self.alpha * v + (self.beta if t > 0 else 1.0) * g
        x_new = x - r * (g + self.alpha * v_new if self.nesterov else v_new)
        return x_new, v_new

    @classmethod
    def samples(cls):
        def expect(r, t, *xs, nesterov=False, n=1):
            out_x, out_v = [], []
            for x, g, v in zip(xs[:n], xs[n:2 * n], xs[2 * n:]):
                g = 0.01 * x.astype(np.float64) + g
                v_new = 0.5 * v + 0.25 * g
                out_x.append((x - r * ((g + 0.5 * v_new) if nesterov else v_new)).astype(x.dtype))
                out_v.append(v_new.astype(x.dtype))
            return tuple(out_x + out_v)
        args = dict(alpha=0.5, beta=0.25, norm_coefficient=0.01)
        return [Sample(cls(**args), _inputs(1, 3), expect),
                Sample(cls(n=2, nesterov=True, **args), _inputs(2, 3),
                       lambda *a: expect(*a, nesterov=True, n=2))]


@register_op
class Adagrad(_Optimizer):
    """ONNX Adagrad: r = R / (1 + T decay); G' = G + norm X; H' = H + G'^2; X' = X - r G' / (sqrt(H') + eps)."""

    decay_factor: float = 0.0
    epsilon: float = 1e-6
    norm_coefficient: float = 0.0

    def update(self, r, t, x, g, h):
        r = r / (1 + t * self.decay_factor)
        g = self.norm_coefficient * x + g
        h_new = h + g * g
        return x - r * g / (np.sqrt(h_new) + self.epsilon), h_new

    @classmethod
    def samples(cls):
        def expect(r, t, *xs, n=1):
            out_x, out_h = [], []
            for x, g, h in zip(xs[:n], xs[n:2 * n], xs[2 * n:]):
                rr = float(r) / (1 + int(t) * 0.1)
                g = 0.01 * x.astype(np.float64) + g
                h_new = h + g ** 2
                out_x.append((x - rr * g / (h_new ** 0.5 + 1e-5)).astype(x.dtype))
                out_h.append(h_new.astype(x.dtype))
            return tuple(out_x + out_h)
        args = dict(decay_factor=0.1, epsilon=1e-5, norm_coefficient=0.01)
        ins = _inputs(1, 3)
        ins = ins[:4] + (np.abs(ins[4]),)
        return [Sample(cls(**args), ins, expect),
                Sample(cls(n=2, **args), _inputs(2, 3)[:6] + tuple(np.abs(h) for h in _inputs(2, 3)[6:]),
                       lambda *a: expect(*a, n=2))]


@register_op
class Adam(_Optimizer):
    """ONNX Adam: G' = G + norm X; V' = alpha V + (1 - alpha) G'; H' = beta H + (1 - beta) G'^2;
    r = R sqrt(1 - beta^T) / (1 - alpha^T) (R at T = 0); X' = (1 - post) (X - r V' / (sqrt(H') + eps))."""

    groups: ClassVar[int] = 4
    alpha: float = 0.9
    beta: float = 0.999
    epsilon: float = 1e-6
    norm_coefficient: float = 0.0
    norm_coefficient_post: float = 0.0

    def update(self, r, t, x, g, v, h):
        g = self.norm_coefficient * x + g
        v_new = self.alpha * v + (1 - self.alpha) * g
        h_new = self.beta * h + (1 - self.beta) * g * g
        if t > 0:
            r = r * np.sqrt(1 - self.beta ** t) / (1 - self.alpha ** t)
        x_new = (1 - self.norm_coefficient_post) * (x - r * v_new / (np.sqrt(h_new) + self.epsilon))
        return x_new, v_new, h_new

    @classmethod
    def samples(cls):
        def expect(r, t, *xs, n=1):
            outs = [[], [], []]
            for x, g, v, h in zip(xs[:n], xs[n:2 * n], xs[2 * n:3 * n], xs[3 * n:]):
                g = 0.01 * x.astype(np.float64) + g
                v_new = 0.8 * v + 0.2 * g
                h_new = 0.7 * h + 0.3 * g ** 2
                rr = float(r) * (1 - 0.7 ** int(t)) ** 0.5 / (1 - 0.8 ** int(t))
                outs[0].append((0.9 * (x - rr * v_new / (h_new ** 0.5 + 1e-3))).astype(x.dtype))
                outs[1].append(v_new.astype(x.dtype))
                outs[2].append(h_new.astype(x.dtype))
            return tuple(outs[0] + outs[1] + outs[2])
        args = dict(alpha=0.8, beta=0.7, epsilon=1e-3, norm_coefficient=0.01, norm_coefficient_post=0.1)
        one, two = _inputs(1, 4), _inputs(2, 4)
        one = one[:5] + (np.abs(one[5]),)
        two = two[:8] + tuple(np.abs(h) for h in two[8:])
        return [Sample(cls(**args), one, expect), Sample(cls(n=2, **args), two, lambda *a: expect(*a, n=2))]


@register_op
class BatchNormalizationTraining(Op):
    """ONNX BatchNormalization with training_mode=1 (opset 14+): normalize with the batch statistics
    (mean and population variance over every axis but 1) and update the running ones."""

    kind: ClassVar[OpKind] = OpKind.NORMALIZATION
    arity: ClassVar[int] = 5
    epsilon: float = 1e-5
    momentum: float = 0.9

    @property
    def num_outputs(self) -> int:
        return 3

    def infer(self, x, scale, b, mean, var):
        for t in (x, scale, b, mean, var):
            if t.dtype not in FLOAT_DTYPES:
                raise InferError(f"expects float inputs, got {t.dtype}")
        if x.shape is not None and len(x.shape) < 2:
            raise InferError(f"X must be [N, C, ...], got {x}")
        c = None if x.shape is None else x.shape[1]
        for t in (scale, b, mean, var):
            if t.shape is not None and (len(t.shape) != 1 or None not in (c, t.shape[0]) and t.shape[0] != c):
                raise InferError(f"scale, B, mean and var must be [C] for X {x}, got {t}")
        if mean.dtype != var.dtype:
            raise InferError(f"mean and var must have one dtype, got {mean.dtype} and {var.dtype}")
        stat = TensorType(mean.dtype, (c,))
        return (x, stat, stat)

    def reference(self, x, scale, b, mean, var):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        x64 = x.astype(np.float64)
        batch_mean = x64.mean(axis=axes)
        batch_var = x64.var(axis=axes)
        y = (x64 - batch_mean.reshape(shape)) / np.sqrt(batch_var.reshape(shape) + self.epsilon)
        y = y * scale.reshape(shape) + b.reshape(shape)
        running_mean = mean.astype(np.float64) * self.momentum + batch_mean * (1 - self.momentum)
        running_var = var.astype(np.float64) * self.momentum + batch_var * (1 - self.momentum)
        return (y.astype(x.dtype), running_mean.astype(mean.dtype), running_var.astype(var.dtype))

    @classmethod
    def samples(cls):
        def expect(x, s, b, m, v):
            y = np.empty(x.shape)
            rm, rv = np.empty(m.shape), np.empty(v.shape)
            for c in range(x.shape[1]):
                xc = x[:, c].astype(np.float64)
                mu, var = xc.sum() / xc.size, ((xc - xc.sum() / xc.size) ** 2).sum() / xc.size
                y[:, c] = (xc - mu) / (var + 1e-3) ** 0.5 * s[c] + b[c]
                rm[c], rv[c] = m[c] * 0.8 + mu * 0.2, v[c] * 0.8 + var * 0.2
            return y.astype(x.dtype), rm.astype(m.dtype), rv.astype(v.dtype)
        c = 3
        return [Sample(cls(epsilon=1e-3, momentum=0.8),
                       (_rand((2, c, 4, 2)), _rand((c,)), _rand((c,)), _rand((c,)), _rand((c,), low=0.5, high=2)),
                       expect)]


@register_op
class DropoutTraining(Op):
    """ONNX Dropout whose training_mode is known only at run time: Y = X and an all-true mask when
    not training or when ratio is 0; training with ratio > 0 raises (random masks are
    implementation-defined, so netjit does not draw them)."""

    kind: ClassVar[OpKind] = OpKind.ELEMENTWISE
    arity: ClassVar[int] = 3

    @property
    def num_outputs(self) -> int:
        return 2

    def infer(self, x, ratio, training):
        if ratio.dtype not in FLOAT_DTYPES or (ratio.shape is not None and len(ratio.shape) != 0):
            raise InferError(f"ratio must be a float scalar, got {ratio}")
        if training.dtype != as_dtype(bool) or (training.shape is not None and len(training.shape) != 0):
            raise InferError(f"training_mode must be a bool scalar, got {training}")
        return (x, TensorType(as_dtype(bool), x.shape))

    def reference(self, x, ratio, training):
        if bool(np.asarray(training)) and float(np.asarray(ratio)) != 0.0:
            raise UnimplementedError(f"Dropout in training mode with ratio {float(np.asarray(ratio))} > 0 draws a "
                                     "random mask, which netjit does not (only ratio 0 is deterministic)")
        return (np.array(x, copy=True), np.ones(np.shape(x), dtype=bool))

    @classmethod
    def samples(cls):
        x = _rand((3, 4))
        expect = lambda x, r, t: (x.copy(), np.full(x.shape, True))  # noqa: E731
        return [Sample(cls(), (x, np.asarray(0.5, np.float32), np.asarray(False)), expect),
                Sample(cls(), (x, np.asarray(0.0, np.float32), np.asarray(True)), expect)]
