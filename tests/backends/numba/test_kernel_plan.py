"""kernel_plan: which nodes join a loop group, and the typed loop IR it builds."""
import numpy as np

from netjit.backends.numba.groups import (ConstRef, ExtRef, InstrRef, Level, LoopGroup, OutKind)
from netjit.compiler.ops import Add, MatMul, Mul, ReduceSum, Sub, Tanh

from loop_graphs import F32, Builder, softmax


def test_softmax_is_one_group_of_three_passes():
    b = Builder()
    x = b.input((None, 16))
    g = b.group(softmax(b, x))
    assert [e.level for e in g.exts] == [Level.FULL]
    assert [type(i.op).__name__ for i in g.instrs] == ["ReduceMax", "Sub", "Exp", "ReduceSum", "Div"]
    assert [i.args for i in g.instrs] == [[ExtRef(0)], [ExtRef(0), InstrRef(0)], [InstrRef(1)],
                                          [InstrRef(2)], [InstrRef(2), InstrRef(3)]]
    assert [i.level for i in g.instrs] == [Level.ROW, Level.FULL, Level.FULL, Level.ROW, Level.FULL]
    assert [i.phase for i in g.instrs] == [1, 1, 1, 2, 2]
    assert [i.reduce for i in g.instrs] == [True, False, False, True, False]
    assert [(o.instr, o.kind, o.alias) for o in g.outputs] == [(4, OutKind.FULL, None)]
    assert g.last_phase == 2


def test_a_scalar_constant_is_an_inlined_operand_and_a_row_input_a_row_level_ext():
    b = Builder()
    x, col = b.input((None, 8)), b.input((None, 1))
    g = b.group(b.op(Add(), b.op(Mul(), x, b.const(2.0)), col))
    (mul, add) = g.instrs
    assert mul.args[0] == ExtRef(0)
    assert isinstance(mul.args[1], ConstRef) and mul.args[1].value == np.float32(2.0)
    assert g.dtype_of(mul.args[1]) == F32
    assert add.args == [InstrRef(0), ExtRef(1)]
    assert [e.level for e in g.exts] == [Level.FULL, Level.ROW]
    assert g.level_of(mul.args[1]) is Level.ROW


def test_row_outputs_keep_or_drop_the_last_dim():
    b = Builder()
    x = b.input((None, 8))
    kept = b.op(ReduceSum(axes=(-1,)), x)
    dropped = b.op(ReduceSum(axes=(-1,), keepdims=False), x)
    g = b.group(kept, dropped)
    assert [o.kind for o in g.outputs] == [OutKind.KEEP, OutKind.DROP]


def test_reading_a_dropped_row_value_as_a_trailing_operand_starts_a_new_group():
    b = Builder()
    x = b.input((4, 4))
    s = b.op(ReduceSum(axes=(-1,), keepdims=False), x)
    items = b.plan(b.op(Sub(), x, s))       # NumPy pairs column j with row sum j
    assert len(items) == 2 and all(isinstance(it, LoopGroup) for it in items)
    assert items[1].exts[1].value == s and items[1].exts[1].rank == 1


def test_a_full_output_overwrites_the_gemm_result_only_this_group_reads():
    b = Builder()
    x, w, bias = b.input((None, 8)), b.input((8, 8)), b.input((8,))
    mm = b.op(MatMul(), x, w)
    items = b.plan(b.op(Tanh(), b.op(Add(), mm, bias)))
    assert not isinstance(items[0], LoopGroup)          # the product is a statement
    g = items[1]
    assert g.exts[0].value == mm and g.outputs[0].alias == 0


def test_a_gemm_result_that_is_also_a_graph_output_is_not_overwritten():
    b = Builder()
    x, w = b.input((None, 8)), b.input((8, 8))
    mm = b.op(MatMul(), x, w)
    items = b.plan(b.op(Tanh(), mm), mm)
    assert items[1].outputs[0].alias is None
