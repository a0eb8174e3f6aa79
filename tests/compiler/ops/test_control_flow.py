"""If, Loop and Scan: bodies as values, references, and the ONNX converters."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from netjit.compiler import ops as O
from netjit.compiler.ops.control_flow import Body
from netjit.errors import UnimplementedError

I64, B, F32 = O.TensorType(np.dtype(np.int64), ()), O.TensorType(np.dtype(np.bool_), ()), \
    O.TensorType(np.dtype(np.float32), (2,))


def _loop_body():
    # body(i, cond, acc, x) -> (i < 2, acc + x * i, acc)
    return Body((I64, B, F32, F32),
                ((O.Cast(np.dtype(np.float32)), (0,)), (O.Mul(), (3, 4)), (O.Add(), (2, 5)),
                 (O.Const(O.ConstValue(np.int64(2))), ()), (O.LT(), (0, 7))),
                (8, 6, 2))


def test_bodies_are_values_hashable_and_printable():
    a, b = _loop_body(), _loop_body()
    assert a == b and hash(a) == hash(b)
    loop = O.get_op("Loop")(a, True, True, 1)
    assert loop == O.get_op("Loop")(b, True, True, 1) and len({loop, O.get_op("Loop")(b, True, True, 1)}) == 1
    assert "Add()" in repr(loop) and "return %8, %6, %2" in repr(loop)


def _run_loop(m, cond, has_max=True, has_cond=True):
    op = O.get_op("Loop")(_loop_body(), has_max, has_cond, 1)
    acc, x = np.zeros(2, np.float32), np.array([1, 2], np.float32)
    head = ([np.array(m, np.int64)] if has_max else []) + ([np.array(cond)] if has_cond else [])
    return op.reference(*head, acc, x)


def test_loop_stops_at_the_trip_count_or_the_condition():
    acc, rows = _run_loop(2, True)
    np.testing.assert_array_equal(acc, [1, 2])          # 0*x + 1*x
    assert rows.shape == (2, 2)
    acc, rows = _run_loop(10, True)                     # cond false after i == 2
    np.testing.assert_array_equal(acc, [3, 6])
    assert rows.shape == (3, 2)
    acc, rows = _run_loop(10, True, has_cond=False)     # the body's condition is ignored
    np.testing.assert_array_equal(acc, [45, 90])
    acc, rows = _run_loop(0, True)                      # zero trips: static element shape
    assert rows.shape == (0, 2) and rows.dtype == np.float32
    acc, rows = _run_loop(5, False)
    np.testing.assert_array_equal(acc, [0, 0])


def test_loop_infer_makes_scan_outputs_dynamic_in_length():
    op = O.get_op("Loop")(_loop_body(), True, True, 1)
    assert op.infer(I64, B, F32, F32) == (F32, O.TensorType(np.dtype(np.float32), (None, 2)))


def test_if_infer_merges_branch_shapes():
    then = Body((F32,), ((O.Neg(), (0,)),), (1,))
    other = Body((F32,), ((O.Const(O.ConstValue(np.zeros(3, np.float32))), ()),), (1,))
    op = O.get_op("If")(then, other)
    assert op.infer(B, F32) == (O.TensorType(np.dtype(np.float32), (None,)),)
    np.testing.assert_array_equal(op.reference(np.array(False), np.ones(2, np.float32))[0], np.zeros(3))


def test_scan_along_another_axis_in_reverse():
    body = Body((F32, F32), ((O.Add(), (0, 1)),), (2, 2))
    op = O.get_op("Scan")(body, 1, 1, (1,), (True,), (-1,), (False,))
    xs = np.arange(6, dtype=np.float32).reshape(2, 3)
    state, out = op.reference(np.zeros(2, np.float32), xs)
    np.testing.assert_array_equal(state, xs.sum(1))
    np.testing.assert_array_equal(out, np.cumsum(xs[:, ::-1], 1))
    assert op.infer(F32, O.TensorType.of(xs)) == (F32, O.TensorType(np.dtype(np.float32), (2, 3)))


# -- ONNX import ------------------------------------------------------------------------
def _model(nodes, inputs, outputs, opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    return model


def _load_and_run(model, *feeds):
    import netjit as nj
    from netjit.compiler.frontend.onnx import load
    net = load(model)
    names = [i.name for i in model.graph.input]
    fetches = [o.name for o in model.graph.output]
    return net, nj.compile(net, fetches, names, backend="reference")(*feeds)


def _vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def test_loop_body_reads_outer_values_as_extra_inputs_including_nested():
    # outer: y = x * 2; loop 3 times: acc += y (an outer value), inside a nested If reading y too
    then_b = helper.make_graph([helper.make_node("Add", ["acc_in", "y"], ["t"])], "then", [],
                               [_vi("t", TensorProto.FLOAT, [2])])
    else_b = helper.make_graph([helper.make_node("Sub", ["acc_in", "y"], ["e"])], "else", [],
                               [_vi("e", TensorProto.FLOAT, [2])])
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"]),
         helper.make_node("If", ["flag"], ["acc_out"], then_branch=then_b, else_branch=else_b)],
        "body", [_vi("i", TensorProto.INT64, []), _vi("c_in", TensorProto.BOOL, []),
                 _vi("acc_in", TensorProto.FLOAT, [2])],
        [_vi("c_out", TensorProto.BOOL, []), _vi("acc_out", TensorProto.FLOAT, [2])])
    nodes = [helper.make_node("Mul", ["x", "x"], ["y"]),
             helper.make_node("Loop", ["m", "", "x"], ["out"], body=body)]
    model = _model(nodes, [_vi("x", TensorProto.FLOAT, [2]), _vi("m", TensorProto.INT64, []),
                           _vi("flag", TensorProto.BOOL, [])], [_vi("out", TensorProto.FLOAT, [2])])
    x = np.array([1, 2], np.float32)
    net, (out,) = _load_and_run(model, x, np.array(3, np.int64), np.array(True))
    np.testing.assert_array_equal(out, x + 3 * x * x)
    loop = [d for d in net.ops if d.type == "Loop"][0]
    assert set(loop.inputs) == {"m", "x", "y", "flag"}


def test_if_with_a_constant_condition_folds_to_the_taken_branch():
    then_b = helper.make_graph([helper.make_node("Neg", ["x"], ["t"])], "then", [],
                               [_vi("t", TensorProto.FLOAT, [2])])
    else_b = helper.make_graph([helper.make_node("Abs", ["x"], ["e"])], "else", [],
                               [_vi("e", TensorProto.FLOAT, [2])])
    nodes = [helper.make_node("Constant", [], ["c"], value=helper.make_tensor("c", TensorProto.BOOL, [], [False])),
             helper.make_node("If", ["c"], ["y"], then_branch=then_b, else_branch=else_b)]
    model = _model(nodes, [_vi("x", TensorProto.FLOAT, [2])], [_vi("y", TensorProto.FLOAT, [2])])
    net, (y,) = _load_and_run(model, np.array([-1, 2], np.float32))
    np.testing.assert_array_equal(y, [1, 2])
    assert "If" not in {d.type for d in net.ops} and "Abs" in {d.type for d in net.ops}


def test_sequence_bodies_are_refused():
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"]),
         helper.make_node("SequenceEmpty", [], ["s"]),
         helper.make_node("SequenceLength", ["s"], ["n"]),
         helper.make_node("Cast", ["n"], ["v_out"], to=TensorProto.FLOAT)],
        "body", [_vi("i", TensorProto.INT64, []), _vi("c_in", TensorProto.BOOL, []),
                 _vi("v_in", TensorProto.FLOAT, [])],
        [_vi("c_out", TensorProto.BOOL, []), _vi("v_out", TensorProto.FLOAT, [])])
    model = _model([helper.make_node("Loop", ["m", "", "v"], ["out"], body=body)],
                   [_vi("m", TensorProto.INT64, []), _vi("v", TensorProto.FLOAT, [])],
                   [_vi("out", TensorProto.FLOAT, [])])
    from netjit.compiler.frontend.onnx import load
    with pytest.raises(UnimplementedError, match="SequenceEmpty"):
        load(model)
