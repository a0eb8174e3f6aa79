"""The attention family through the ONNX converters: layouts, optional inputs and outputs, refusals."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from netjit.compiler.ops import TensorType
from netjit.compiler.ops.attention import Attention
from netjit.errors import NetjitError, UnimplementedError
from netjit.onnx import backend

from onnx_node import run_node

RNG = np.random.default_rng(11)


def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _run(op_type, inputs: list, values: dict, outputs: list, opset: int, **attrs):
    """Like run_node, but ``inputs`` may contain "" for omitted optional inputs."""
    node = helper.make_node(op_type, inputs, outputs, **attrs)
    ins = [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
           for k, v in values.items()]
    # the checker wants an output shape; the importer ignores declared output shapes
    outs = [helper.make_tensor_value_info(o, helper.np_dtype_to_tensor_dtype(np.dtype(np.float32)),
                                          [f"{o}_d{i}" for i in range(4)]) for o in outputs if o]
    model = helper.make_model(helper.make_graph([node], "t", ins, outs),
                              opset_imports=[helper.make_opsetid("", opset)])
    return backend.prepare(model, "CPU", backend="reference").run(list(values.values()))


def _loop_attention(q, k, v):
    """softmax(q kᵀ / sqrt(d)) v for one head, in float64."""
    s = q.astype(float) @ k.astype(float).T / np.sqrt(q.shape[-1])
    w = np.exp(s - s.max(axis=-1, keepdims=True))
    return (w / w.sum(axis=-1, keepdims=True)) @ v


def test_3d_gqa_with_past_splits_heads_and_concatenates_the_cache():
    q, k, v = _f32(1, 2, 8), _f32(1, 3, 4), _f32(1, 3, 6)      # 4 query heads, 2 KV heads
    pk, pv = _f32(1, 2, 1, 2), _f32(1, 2, 1, 3)
    y, present_k, present_v = _run("Attention", ["Q", "K", "V", "", "pk", "pv"],
                                   dict(Q=q, K=k, V=v, pk=pk, pv=pv), ["y", "pk_out", "pv_out"], 23,
                                   q_num_heads=4, kv_num_heads=2)
    k4 = np.concatenate([pk, k.reshape(1, 3, 2, 2).transpose(0, 2, 1, 3)], axis=2)
    v4 = np.concatenate([pv, v.reshape(1, 3, 2, 3).transpose(0, 2, 1, 3)], axis=2)
    np.testing.assert_array_equal(present_k, k4)
    np.testing.assert_array_equal(present_v, v4)
    for h in range(4):
        want = _loop_attention(q[0, :, 2 * h:2 * h + 2], k4[0, h // 2], v4[0, h // 2])
        np.testing.assert_allclose(y[0, :, 3 * h:3 * h + 3], want, rtol=1e-5, atol=1e-6)


def test_qk_output_mode_0_is_the_score_before_softcap():
    q, k, v = _f32(1, 1, 2, 4), _f32(1, 1, 3, 4), _f32(1, 1, 3, 4)
    _, raw = _run("Attention", ["Q", "K", "V"], dict(Q=q, K=k, V=v), ["y", "", "", "qk"], 23, softcap=0.5)
    np.testing.assert_allclose(raw[0, 0], q[0, 0] @ k[0, 0].T / 2, rtol=1e-5)


def test_a_fully_masked_query_row_gives_zeros():
    q, k, v = _f32(1, 1, 2, 4), _f32(1, 1, 3, 4), _f32(1, 1, 3, 4)
    mask = np.array([[True, False, True], [False, False, False]])
    (y,) = run_node("Attention", {"Q": q, "K": k, "V": v, "m": mask}, opset=23)
    np.testing.assert_array_equal(y[0, 0, 1], 0)
    keep = [0, 2]
    np.testing.assert_allclose(y[0, 0, 0], _loop_attention(q[0, 0, :1], k[0, 0, keep], v[0, 0, keep])[0],
                               rtol=1e-5)


def test_attention_refuses_a_past_key_without_a_past_value():
    q, k = _f32(1, 1, 2, 4), _f32(1, 1, 3, 4)
    with pytest.raises(UnimplementedError, match="past_key and past_value must be given together"):
        _run("Attention", ["Q", "K", "V", "", "pk"], dict(Q=q, K=k, V=k, pk=k), ["y"], 23)


def test_attention_infers_3d_outputs_with_unknown_dims():
    op = Attention(q_num_heads=4, kv_num_heads=2, has_past=True)
    f32 = np.dtype(np.float32)
    y, pk, pv, qk = op.infer(TensorType(f32, (None, None, 8)), TensorType(f32, (None, 3, 4)),
                             TensorType(f32, (None, 3, 6)), TensorType(f32, (None, 2, 5, 2)),
                             TensorType(f32, (None, 2, 5, 3)))
    assert y.shape == (None, None, 12) and pk.shape == (None, 2, 8, 2) and pv.shape == (None, 2, 8, 3)
    assert qk.shape == (None, 4, None, 8)


def test_linear_attention_refuses_a_gated_rule_without_decay():
    x = _f32(1, 2, 4)
    with pytest.raises(UnimplementedError, match="requires the decay input"):
        _run("LinearAttention", ["q", "k", "v"], dict(q=x, k=x, v=x), ["o", "s"], 27,
             q_num_heads=2, kv_num_heads=2, update_rule="gated")


def test_linear_attention_linear_rule_is_a_running_sum_of_outer_products():
    q, k, v = _f32(1, 3, 2), _f32(1, 3, 2), _f32(1, 3, 2)
    out, state = _run("LinearAttention", ["q", "k", "v"], dict(q=q, k=k, v=v), ["o", "s"], 27,
                      q_num_heads=1, kv_num_heads=1, update_rule="linear", scale=1.0)
    s = np.zeros((2, 2))
    for t in range(3):
        s += np.outer(k[0, t], v[0, t])
        np.testing.assert_allclose(out[0, t], q[0, t] @ s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state[0, 0], s, rtol=1e-5)


def test_tensor_scatter_circular_wraps_and_linear_overflow_is_an_error():
    past, update = np.zeros((2, 4, 1), np.float32), np.ones((2, 2, 1), np.float32)
    idx = np.array([3, 1], np.int64)
    (y,) = run_node("TensorScatter", {"p": past, "u": update, "i": idx}, opset=24, axis=1, mode="circular")
    np.testing.assert_array_equal(y[..., 0], [[1, 0, 0, 1], [0, 1, 1, 0]])
    with pytest.raises(NetjitError, match="overflows a cache of 4"):
        run_node("TensorScatter", {"p": past, "u": update, "i": idx}, opset=24, axis=1)
