"""RNN, GRU and LSTM: attribute checks and converter choices the node cases do not reach."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError
from netjit.compiler.ops.recurrent import GRU, LSTM, RNN
from netjit.errors import UnimplementedError

from onnx_node import run_node

rng = np.random.default_rng(4)
X = rng.standard_normal((3, 2, 2)).astype(np.float32)


def test_unknown_direction_and_activation_counts_are_refused():
    with pytest.raises(InferError, match="direction must be one of"):
        RNN(hidden_size=2, direction="sideways")
    with pytest.raises(InferError, match="do not fit 2 direction"):
        LSTM(hidden_size=2, direction="bidirectional", activations=("Sigmoid", "Tanh", "Tanh"))


def test_clip_and_custom_activations_change_the_rnn():
    w, r = rng.standard_normal((1, 2, 2)).astype(np.float32), rng.standard_normal((1, 2, 2)).astype(np.float32)
    y, _ = run_node("RNN", {"x": X, "w": w, "r": r}, n_outputs=2, hidden_size=2, activations=["Affine"],
                    activation_alpha=[2.0], activation_beta=[0.5], clip=0.25)
    h = np.zeros((2, 2))
    for t in range(3):
        h = 2.0 * np.clip(X[t] @ w[0].T + h @ r[0].T, -0.25, 0.25) + 0.5
        np.testing.assert_allclose(y[t, 0], h, rtol=1e-5)


def test_activation_alpha_that_does_not_pair_with_activations_is_unsupported():
    w, r = np.zeros((1, 8, 2), np.float32), np.zeros((1, 8, 2), np.float32)
    with pytest.raises(UnimplementedError, match="ambiguous"):
        run_node("LSTM", {"x": X, "w": w, "r": r}, n_outputs=3, hidden_size=2,
                 activations=["HardSigmoid", "Tanh", "Tanh"], activation_alpha=[0.3])


def test_gru_linear_before_reset_differs_from_the_default():
    w, r = rng.standard_normal((1, 6, 2)), rng.standard_normal((1, 6, 2))
    b = rng.standard_normal((1, 12))
    args = (X.astype(np.float64), w, r, b)
    default = GRU(hidden_size=2, present=("B",)).reference(*args)[0]
    lbr = GRU(hidden_size=2, present=("B",), linear_before_reset=True).reference(*args)[0]
    assert not np.allclose(default, lbr)


def test_lstm_input_forget_couples_the_gates():
    w, r = rng.standard_normal((1, 8, 2)), rng.standard_normal((1, 8, 2))
    y, yh, yc = LSTM(hidden_size=2, input_forget=True).reference(X[:1].astype(np.float64), w, r)
    g = X[0].astype(np.float64) @ w[0].T
    i = 1 / (1 + np.exp(-g[:, :2]))
    c = i * np.tanh(g[:, 6:])                  # f = 1 - i multiplies a zero initial cell
    np.testing.assert_allclose(yc[0], c)
    np.testing.assert_allclose(yh[0], 1 / (1 + np.exp(-g[:, 2:4])) * np.tanh(c))
