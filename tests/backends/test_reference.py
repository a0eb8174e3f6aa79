"""The reference backend: evaluate() on hand-built graphs, and its errors."""
import numpy as np
import pytest

from netjit.backends import get_backend
from netjit.backends.base import DictStateStore
from netjit.backends.reference import ReferenceBackend, evaluate
from netjit.compiler import ops as O
from netjit.compiler.ir import Graph
from netjit.compiler.ops import ConstValue, TensorType
from netjit.errors import InvalidArgumentError

F32 = np.dtype(np.float32)


def mlp_graph(w, b):
    """y = softmax(relu(x @ w + b)), and the hidden layer; x: f32[?, 4]."""
    g = Graph("mlp")
    x = g.add(O.Placeholder(F32, (None, 4)), names=["x"])
    wn = g.add(O.Const(ConstValue(w)), names=["w"])
    bn = g.add(O.Const(ConstValue(b)), names=["b"])
    mm = g.add(O.MatMul(), [(x, 0), (wn, 0)])
    h = g.add(O.Relu(), [(g.add(O.Add(), [(mm, 0), (bn, 0)]), 0)], names=["h"])
    y = g.add(O.Softmax(), [(h, 0)], names=["y"])
    g.inputs, g.outputs = [x], [(y, 0), (h, 0)]
    return g


def test_evaluate_an_mlp_matches_numpy():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((4, 3)).astype(F32), rng.standard_normal(3).astype(F32)
    x = rng.standard_normal((5, 4)).astype(F32)
    y, h = evaluate(mlp_graph(w, b), [x])
    want_h = np.maximum(x @ w + b, 0)
    e = np.exp(want_h - want_h.max(axis=1, keepdims=True))
    np.testing.assert_allclose(h, want_h, rtol=1e-6)
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-5)
    assert y.dtype == h.dtype == F32


def test_multi_output_nodes_and_repeated_outputs():
    g = Graph("split")
    c = g.add(O.Const(ConstValue(np.arange(6, dtype=np.int64).reshape(2, 3))))
    sp = g.add(O.Split(axis=1, split=(1, 2)), [(c, 0)])
    cat = g.add(O.Concat(axis=1), [(sp, 1), (sp, 0)])
    g.outputs = [(sp, 1), (cat, 0), (sp, 1)]
    right, cat_v, again = evaluate(g)
    np.testing.assert_array_equal(right, [[1, 2], [4, 5]])
    np.testing.assert_array_equal(cat_v, [[1, 2, 0], [4, 5, 3]])
    assert again is right


def test_compiled_executable_is_a_schedule_not_a_graph_walk():
    g = mlp_graph(np.eye(4, 3, dtype=F32), np.zeros(3, F32))
    exe = get_backend("reference").compile(g)
    assert isinstance(exe, type(ReferenceBackend().compile(g))) and exe.input_names == ("x",)
    g.nx.clear()  # the executable keeps working: all graph work happened in compile()
    x = np.float32([[1, -2, 3, 0]])
    y, h = exe([x])
    np.testing.assert_array_equal(h, [[1, 0, 3]])


def test_variables_live_in_the_state_store_across_calls():
    g = Graph("counter")
    init = ConstValue(np.zeros(2, F32))
    one = g.add(O.Const(ConstValue(np.ones(2, F32))))
    upd = g.add(O.AssignAdd("v", TensorType(F32, (2,)), initial=init), [(one, 0)])
    g.outputs = [(upd, 0)]
    exe = ReferenceBackend().compile(g)
    state = DictStateStore()
    for k in (1, 2, 3):
        np.testing.assert_array_equal(exe([], state)[0], [k, k])
    np.testing.assert_array_equal(exe([])[0], [1, 1])  # a fresh store each call without one


def test_wrong_number_of_inputs_names_the_inputs():
    g = mlp_graph(np.eye(4, 3, dtype=F32), np.zeros(3, F32))
    with pytest.raises(InvalidArgumentError, match=r"mlp: expected 1 inputs \['x'\], got 0"):
        evaluate(g, [])


def test_an_op_error_names_the_op_and_the_blob():
    g = Graph("dyn")
    x = g.add(O.Placeholder(F32, (None, None)), names=["x"])
    r = g.add(O.Reshape((4, 4)), [(x, 0)], names=["r"])
    g.inputs, g.outputs = [x], [(r, 0)]
    with pytest.raises(InvalidArgumentError, match=r"Reshape 'r' in net 'dyn' failed: cannot reshape \[3, 5\] "
                                                   r"to \[4, 4\]"):
        evaluate(g, [np.zeros((3, 5), F32)])
    np.testing.assert_array_equal(evaluate(g, [np.ones((2, 8), F32)])[0], np.ones((4, 4)))


def test_an_op_error_on_a_temporary_names_its_node():
    g = Graph("mm")
    a = g.add(O.Placeholder(F32, (2, None)), names=["a"])
    b = g.add(O.Placeholder(F32, (None, 2)), names=["b"])
    mm = g.add(O.MatMul(), [(a, 0), (b, 0)])
    g.inputs, g.outputs = [a, b], [(mm, 0)]
    with pytest.raises(InvalidArgumentError, match=rf"MatMul '%{mm}' in net 'mm' failed: .*mismatch"):
        evaluate(g, [np.zeros((2, 3), F32), np.zeros((4, 2), F32)])
