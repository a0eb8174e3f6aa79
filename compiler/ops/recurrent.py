"""Recurrent layers (ONNX semantics): RNN, GRU and LSTM over a whole sequence.

Inputs are X, W, R and then the optional inputs the model gives, in ONNX
order, named by ``present`` (a subset of B, sequence_lens, initial_h,
initial_c, P). ``layout`` 0 is time-major (X [seq, batch, in], Y [seq, dirs,
batch, hidden]); 1 is batch-major (X [batch, seq, in], Y [batch, seq, dirs,
hidden], states [batch, dirs, hidden]). A batch entry past its sequence
length keeps its state and gets zeros in Y. ``activations`` lists the
activation names per direction (f, g[, h]) with their alpha/beta, resolved
by the importer; an empty tuple means the ONNX defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar, Optional

import numpy as np

from .base import InferError, Op, OpKind, Sample, register_op
from .elementwise import _rand
from .types import DTYPES, FLOAT_DTYPES, INT_DTYPES, TensorType


def _sigmoid(x, a, b):
    return 1.0 / (1.0 + np.exp(-x))


#: ONNX activation name -> fn(x, alpha, beta), as the RNN ops' spec defines them.
ACTIVATIONS: dict[str, Callable] = {
    "Sigmoid": _sigmoid,
    "Tanh": lambda x, a, b: np.tanh(x),
    "Relu": lambda x, a, b: np.maximum(x, 0.0),
    "Affine": lambda x, a, b: a * x + b,
    "LeakyRelu": lambda x, a, b: np.where(x >= 0, x, a * x),
    "ThresholdedRelu": lambda x, a, b: np.where(x > a, x, 0.0),
    "ScaledTanh": lambda x, a, b: a * np.tanh(b * x),
    "HardSigmoid": lambda x, a, b: np.clip(a * x + b, 0.0, 1.0),
    "Elu": lambda x, a, b: np.where(x >= 0, x, a * (np.exp(x) - 1.0)),
    "Softsign": lambda x, a, b: x / (1.0 + np.abs(x)),
    "Softplus": lambda x, a, b: np.log1p(np.exp(x)),
}
#: Default (alpha, beta) of the activations that take them.
ACTIVATION_DEFAULTS = {"Affine": (1.0, 0.0), "LeakyRelu": (0.01, 0.0), "ThresholdedRelu": (1.0, 0.0),
                       "ScaledTanh": (1.0, 1.0), "HardSigmoid": (0.2, 0.5), "Elu": (1.0, 0.0)}
OPTIONAL_INPUTS = ("B", "sequence_lens", "initial_h", "initial_c", "P")
DIRECTIONS = {"forward": 1, "reverse": 1, "bidirectional": 2}


@dataclass(frozen=True, repr=False)
class _Recurrent(Op):
    """What RNN, GRU and LSTM share: inputs, directions, time loop and sequence lengths."""

    kind: ClassVar[OpKind] = OpKind.CONTRACTION
    arity: ClassVar = None
    min_inputs: ClassVar[int] = 3
    gates: ClassVar[int] = 1
    default_activations: ClassVar[tuple] = ()
    states: ClassVar[int] = 1          # 2 for LSTM: h and c
    hidden_size: int = 1
    direction: str = "forward"
    activations: tuple = ()
    activation_alpha: tuple = ()
    activation_beta: tuple = ()
    clip: Optional[float] = None
    layout: int = 0
    present: tuple = ()

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise InferError(f"direction must be one of {sorted(DIRECTIONS)}, got {self.direction!r}")
        bad = [n for n in self.present if n not in self.optional_inputs()]
        if bad:
            raise InferError(f"unknown optional inputs {bad}; expected some of {self.optional_inputs()}")
        acts = self.activations or self.default_activations * self.num_directions
        if len(acts) != len(self.default_activations) * self.num_directions or \
                any(a not in ACTIVATIONS for a in acts):
            raise InferError(f"activations {self.activations} do not fit {self.num_directions} direction(s) "
                             f"of {len(self.default_activations)} from {sorted(ACTIVATIONS)}")
        for f in ("activations", "activation_alpha", "activation_beta", "present"):
            object.__setattr__(self, f, tuple(getattr(self, f)))

    @classmethod
    def optional_inputs(cls) -> tuple:
        return tuple(n for n in OPTIONAL_INPUTS if cls.states == 2 or n not in ("initial_c", "P"))

    @property
    def num_directions(self) -> int:
        return DIRECTIONS[self.direction]

    @property
    def num_outputs(self) -> int:
        return 1 + self.states

    def check_arity(self, n: int) -> None:
        if n != 3 + len(self.present):
            raise InferError(f"expects X, W, R and {list(self.present)} ({3 + len(self.present)} inputs), got {n}")

    def activation_fns(self, direction: int) -> list:
        """The activations of one direction, as fn(x) with their alpha and beta bound."""
        acts = self.activations or self.default_activations * self.num_directions
        n = len(self.default_activations)
        out = []
        for i in range(direction * n, (direction + 1) * n):
            a, b = ACTIVATION_DEFAULTS.get(acts[i], (0.0, 0.0))
            a = self.activation_alpha[i] if i < len(self.activation_alpha) else a
            b = self.activation_beta[i] if i < len(self.activation_beta) else b
            out.append(lambda x, fn=ACTIVATIONS[acts[i]], a=a, b=b: fn(x, a, b))
        return out

    def infer(self, *inputs):
        self.check_arity(len(inputs))
        given = dict(zip(self.present, inputs[3:]))
        for t in inputs[:3] + tuple(v for k, v in given.items() if k != "sequence_lens"):
            if t.dtype not in FLOAT_DTYPES:
                raise InferError(f"expects float X, W, R, B, initial states and P, got {t.dtype}")
        if "sequence_lens" in given and given["sequence_lens"].dtype not in INT_DTYPES:
            raise InferError(f"sequence_lens must be int32, got {given['sequence_lens']}")
        x, w = inputs[0], inputs[1]
        if w.shape is not None and (len(w.shape) != 3 or w.shape[0] not in (None, self.num_directions) or
                                    w.shape[1] not in (None, self.gates * self.hidden_size)):
            raise InferError(f"W must be [{self.num_directions}, {self.gates * self.hidden_size}, input], got {w}")
        if x.shape is not None and len(x.shape) != 3:
            raise InferError(f"X must be rank 3, got {x}")
        seq, batch = (None, None) if x.shape is None else \
            (x.shape[1], x.shape[0]) if self.layout else x.shape[:2]
        d, h = self.num_directions, self.hidden_size
        y = (batch, seq, d, h) if self.layout else (seq, d, batch, h)
        state = (batch, d, h) if self.layout else (d, batch, h)
        return (TensorType(x.dtype, y),) + (TensorType(x.dtype, state),) * self.states

    def reference(self, x, w, r, *optional):
        given = dict(zip(self.present, optional))
        if self.layout:
            x = x.swapaxes(0, 1)
            given.update({k: given[k].swapaxes(0, 1) for k in ("initial_h", "initial_c") if k in given})
        seq, batch = x.shape[:2]
        d, h = self.num_directions, self.hidden_size
        lens = given.get("sequence_lens", np.full(batch, seq)).astype(np.int64)
        y = np.zeros((seq, d, batch, h))
        finals = []
        for k in range(d):
            state = tuple(given[n][k].astype(np.float64) if n in given else np.zeros((batch, h))
                          for n in ("initial_h", "initial_c")[:self.states])
            bias = given["B"][k].astype(np.float64) if "B" in given else np.zeros(2 * self.gates * h)
            peep = given["P"][k].astype(np.float64) if "P" in given else np.zeros(3 * h)
            state = self.run_direction(x, lens, y, k, state, (w[k].astype(np.float64), r[k].astype(np.float64),
                                                               bias, peep))
            finals.append(state)
        outs = [y] + [np.stack([f[i] for f in finals]) for i in range(self.states)]
        if self.layout:
            outs = [np.moveaxis(outs[0], 2, 0)] + [o.swapaxes(0, 1) for o in outs[1:]]
        return tuple(o.astype(x.dtype) for o in outs)

    def run_direction(self, x, lens, y, k, state, params) -> tuple:
        """Step direction ``k`` through time, writing Y; returns the final state."""
        reverse = self.direction == "reverse" or k == 1
        acts, rows = self.activation_fns(k), np.arange(x.shape[1])
        for t in range(x.shape[0]):
            active = t < lens
            at = np.clip(lens - 1 - t if reverse else np.full_like(lens, t), 0, x.shape[0] - 1)
            new = self.cell(x[at, rows].astype(np.float64), state, params, acts)
            state = tuple(np.where(active[:, None], n, s) for n, s in zip(new, state))
            y[at[active], k, rows[active]] = new[0][active]
        return state

    def pre(self, v: np.ndarray) -> np.ndarray:
        """A gate's input before its activation, clipped to [-clip, clip] when ``clip`` is set."""
        return v if self.clip is None else np.clip(v, -self.clip, self.clip)


def _affine(x, h, w, r, bias, gates: int):
    """X @ W^T + Wb and H @ R^T + Rb, each [batch, gates * hidden]."""
    return x @ w.T + bias[:len(bias) // 2], h @ r.T + bias[len(bias) // 2:]


@register_op
class RNN(_Recurrent):
    """H = f(X @ W^T + H @ R^T + Wb + Rb); f defaults to Tanh."""

    gates: ClassVar[int] = 1
    default_activations: ClassVar[tuple] = ("Tanh",)

    def cell(self, x, state, params, acts):
        w, r, bias, _ = params
        gx, gh = _affine(x, state[0], w, r, bias, 1)
        return (acts[0](self.pre(gx + gh)),)

    @classmethod
    def samples(cls):
        return _rnn_samples(cls, 1)


@register_op
class GRU(_Recurrent):
    """Gates z, r (f = Sigmoid) and candidate h (g = Tanh); H = (1 - z) * h + z * H_prev.

    ``linear_before_reset``: the reset gate multiplies (H_prev @ Rh^T + Rbh) instead of H_prev.
    """

    gates: ClassVar[int] = 3
    default_activations: ClassVar[tuple] = ("Sigmoid", "Tanh")
    linear_before_reset: bool = False

    def cell(self, x, state, params, acts):
        w, r, bias, _ = params
        (hp,), n = state, self.hidden_size
        gx, gh = _affine(x, hp, w, r, bias, 3)
        z = acts[0](self.pre(gx[:, :n] + gh[:, :n]))
        reset = acts[0](self.pre(gx[:, n:2 * n] + gh[:, n:2 * n]))
        if self.linear_before_reset:
            cand = gx[:, 2 * n:] + reset * gh[:, 2 * n:]
        else:
            cand = gx[:, 2 * n:] + (reset * hp) @ r[2 * n:].T + bias[5 * n:]
        return ((1 - z) * acts[1](self.pre(cand)) + z * hp,)

    @classmethod
    def samples(cls):
        return _rnn_samples(cls, 3)


@register_op
class LSTM(_Recurrent):
    """Gates i, o, f (f = Sigmoid, peepholes P), cell g = Tanh, output h = Tanh: C = f*C + i*g(.), H = o*h(C).

    ``input_forget`` couples the gates: f = 1 - i.
    """

    gates: ClassVar[int] = 4
    default_activations: ClassVar[tuple] = ("Sigmoid", "Tanh", "Tanh")
    states: ClassVar[int] = 2
    input_forget: bool = False

    def cell(self, x, state, params, acts):
        w, r, bias, peep = params
        (hp, cp), n = state, self.hidden_size
        gx, gh = _affine(x, hp, w, r, bias, 4)
        g = gx + gh
        i = acts[0](self.pre(g[:, :n] + peep[:n] * cp))
        f = 1 - i if self.input_forget else acts[0](self.pre(g[:, 2 * n:3 * n] + peep[2 * n:] * cp))
        c = f * cp + i * acts[1](self.pre(g[:, 3 * n:]))
        o = acts[0](self.pre(g[:, n:2 * n] + peep[n:2 * n] * c))
        return (o * acts[2](c), c)

    @classmethod
    def samples(cls):
        return _rnn_samples(cls, 4)


def _rnn_samples(cls, gates: int) -> list[Sample]:
    h, inp, seq, batch = 3, 2, 4, 2
    x = _rand((seq, batch, inp))
    w, r = _rand((1, gates * h, inp), low=-1, high=1), _rand((1, gates * h, h), low=-1, high=1)
    w2, r2 = _rand((2, gates * h, inp), low=-1, high=1), _rand((2, gates * h, h), low=-1, high=1)
    b2 = _rand((2, 2 * gates * h), low=-1, high=1)
    lens = np.array([4, 2], np.int32)
    return [Sample(cls(hidden_size=h), (x, w, r), _loop_rnn(cls.__name__, h)),
            Sample(cls(hidden_size=h, direction="bidirectional", present=("B", "sequence_lens")),
                   (x, w2, r2, b2, lens), _loop_rnn(cls.__name__, h, bidirectional=True)),
            Sample(cls(hidden_size=h, direction="reverse", layout=1), (x.swapaxes(0, 1).copy(), w, r),
                   _loop_rnn(cls.__name__, h, reverse=True, batch_major=True))]


def _loop_rnn(kind: str, h: int, bidirectional=False, reverse=False, batch_major=False):
    """An independent expectation: each batch entry on its own, gate by gate, default activations."""
    def sig(v):
        return 1 / (1 + np.exp(-v))

    def step(xt, hp, cp, w, r, b):
        def gate(j):
            rows = slice(j * h, (j + 1) * h)
            return w[rows] @ xt + r[rows] @ hp + b[rows] + b[len(w):][rows]
        if kind == "RNN":
            return np.tanh(gate(0)), cp
        if kind == "GRU":
            z, rr = sig(gate(0)), sig(gate(1))
            cand = np.tanh(w[2 * h:] @ xt + b[2 * h:3 * h] + r[2 * h:] @ (rr * hp) + b[5 * h:])
            return (1 - z) * cand + z * hp, cp
        i, o, f = sig(gate(0)), sig(gate(1)), sig(gate(2))
        c = f * cp + i * np.tanh(gate(3))
        return o * np.tanh(c), c

    def expect(x, w, r, b=None, lens=None):
        x = x.swapaxes(0, 1) if batch_major else x
        seq, batch = x.shape[:2]
        dirs = 2 if bidirectional else 1
        y, yh, yc = np.zeros((seq, dirs, batch, h)), np.zeros((dirs, batch, h)), np.zeros((dirs, batch, h))
        for d in range(dirs):
            bias = np.zeros(2 * w.shape[1]) if b is None else b[d]
            for n in range(batch):
                length = seq if lens is None else int(lens[n])
                hp, cp = np.zeros(h), np.zeros(h)
                order = range(length - 1, -1, -1) if reverse or d == 1 else range(length)
                for t in order:
                    hp, cp = step(x[t, n].astype(np.float64), hp, cp, w[d], r[d], bias)
                    y[t, d, n] = hp
                yh[d, n], yc[d, n] = hp, cp
        if batch_major:
            y, yh, yc = np.moveaxis(y, 2, 0), yh.swapaxes(0, 1), yc.swapaxes(0, 1)
        outs = (y, yh, yc) if kind == "LSTM" else (y, yh)
        return tuple(o.astype(x.dtype) for o in outs)
    return expect
