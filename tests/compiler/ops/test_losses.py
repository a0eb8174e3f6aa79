"""The losses through the ONNX converters: SoftmaxCrossEntropyLoss as LogSoftmax + NLL, attribute checks."""
from __future__ import annotations

import numpy as np
import pytest

from netjit.compiler.ops import InferError, TensorType
from netjit.compiler.ops.losses import NegativeLogLikelihoodLoss
from netjit.errors import UnimplementedError

from onnx_node import run_node

RNG = np.random.default_rng(5)
SCORES = RNG.standard_normal((3, 4, 2)).astype(np.float32)
LABELS = np.array([[0, 3], [-1, 2], [1, -1]], np.int64)


def _log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def test_softmax_cross_entropy_gives_loss_and_log_prob():
    w = np.array([0.5, 1.0, 2.0, 1.5], np.float32)
    loss, log_prob = run_node("SoftmaxCrossEntropyLoss", {"x": SCORES, "t": LABELS, "w": w}, n_outputs=2,
                              opset=13, ignore_index=-1)
    lp = _log_softmax(SCORES)
    total = used = 0.0
    for n, d in np.ndindex(*LABELS.shape):
        c = LABELS[n, d]
        if c != -1:
            total, used = total - lp[n, c, d] * w[c], used + w[c]
    np.testing.assert_allclose(loss, total / used, rtol=1e-5)
    np.testing.assert_allclose(log_prob, lp, rtol=1e-5, atol=1e-6)


def test_nll_reduction_none_keeps_the_target_shape_and_zeroes_ignored_entries():
    (loss,) = run_node("NegativeLogLikelihoodLoss", {"x": SCORES, "t": LABELS}, opset=13,
                       reduction="none", ignore_index=-1)
    assert loss.shape == LABELS.shape and loss.dtype == np.float32
    assert loss[1, 0] == 0 and loss[2, 1] == 0
    np.testing.assert_allclose(loss[0, 1], -SCORES[0, 3, 1])


def test_unknown_reduction_is_unsupported():
    with pytest.raises(UnimplementedError, match="reduction 'max'"):
        run_node("NegativeLogLikelihoodLoss", {"x": SCORES, "t": LABELS}, opset=13, reduction="max")


def test_infer_checks_the_target_shape():
    with pytest.raises(InferError, match="target must be"):
        NegativeLogLikelihoodLoss().infer(TensorType(np.float32, (3, 4, 2)), TensorType(np.int64, (3, 3)))
    (t,) = NegativeLogLikelihoodLoss(reduction="none").infer(TensorType(np.float32, (None, 4, 2)),
                                                              TensorType(np.int64, (None, 2)))
    assert t == TensorType(np.float32, (None, 2))
