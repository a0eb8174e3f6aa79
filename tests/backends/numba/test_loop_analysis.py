"""loop_analysis: dependencies, closures, phases and scalar facts of planned groups."""
from netjit.backends.numba import loop_analysis as A
from netjit.compiler.ops import Add, Div, Exp, Mul, ReduceMax, ReduceSum, Sub, Tanh

from loop_graphs import Builder, softmax


def _softmax_group():
    b = Builder()
    return b.group(softmax(b, b.input((None, 16))))


def test_softmax_closures_phases_and_operands():
    g = _softmax_group()        # t0 max, t1 x - t0, t2 exp, t3 sum, t4 t2 / t3
    assert A.closure(g, [4]) == [1, 2, 4]            # row values are not recomputed per element
    assert A.closure(g, [4], stop=(2,)) == [4]
    assert A.reductions_of_phase(g, 0) == [0] and A.reductions_of_phase(g, 1) == [3]
    assert A.reductions_of_phase(g, 2) == []
    assert A.operands(g, [0, 3]) == [2]              # the max reads the input directly
    assert A.row_instrs(g, 2) == []
    assert A.from_reduction(g, g.instrs[4].args[1]) and not A.from_reduction(g, g.instrs[1].args[0])


def test_softmax_shift_is_below_the_row_max_and_its_division_by_the_sum_a_row_value():
    g = _softmax_group()
    assert [k for k, ins in enumerate(g.instrs) if A.below_row_max(g, ins)] == [1]
    assert A.divides_by_row_value(g, g.instrs[4], fastmath=1)
    assert not A.divides_by_row_value(g, g.instrs[4], fastmath=0)


def test_the_shift_of_a_computed_value_is_not_known_nonpositive():
    b = Builder()
    t = b.op(Tanh(), b.input((None, 16)))
    g = b.group(b.op(Sub(), t, b.op(ReduceMax(axes=(-1,)), t)))
    assert not any(A.below_row_max(g, ins) for ins in g.instrs)


def test_a_division_by_a_constant_or_an_input_column_keeps_the_quotient():
    b = Builder()
    x, col = b.input((None, 16)), b.input((None, 1))
    g = b.group(b.op(Div(), b.op(Div(), x, b.const(3.0)), col))
    assert not any(A.divides_by_row_value(g, ins, fastmath=2) for ins in g.instrs)


def test_last_axis_dependencies_stop_at_reductions():
    b = Builder()
    z = b.input((None, 16))
    total = b.op(ReduceSum(axes=(-1,)), b.op(Exp(), z))
    g = b.group(b.op(Mul(), total, total), b.op(Add(), z, total))
    (square, shifted) = sorted(o.instr for o in g.outputs)
    assert A.instr_deps(g, square) == {0}              # a row value: width 1 along the last axis
    assert A.instr_deps(g, square, last_axis=True) == set()
    assert A.instr_deps(g, shifted, last_axis=True) == {0}


def test_contributors_skip_static_unit_dims_and_two_dynamic_ones_may_broadcast():
    b = Builder()
    x, row = b.input((None, 16)), b.input((1, 16))
    g = b.group(b.op(Add(), x, row))
    assert A.contributors(g, 0) == [(0, 0)]
    assert A.contributors(g, 1) == [(0, 1), (1, 1)]
    assert A.may_broadcast(g)
    b = Builder()
    g = b.group(b.op(Exp(), b.input((None, 16))))
    assert not A.may_broadcast(g)


def test_a_reduction_missing_a_dynamic_last_axis_input_is_narrow():
    b = Builder()
    a, c = b.input((None, None)), b.input((None, None))
    s = b.op(ReduceSum(axes=(-1,)), a)
    g = b.group(b.op(Add(), a, c), s)
    assert A.narrow_reductions(g) == [k for k, ins in enumerate(g.instrs) if ins.reduce]
    b = Builder()
    a, c = b.input((None, 16)), b.input((None, None))
    g = b.group(b.op(Add(), a, c), b.op(ReduceSum(axes=(-1,)), a))
    assert A.narrow_reductions(g) == []                # a static width: never narrower


def test_output_ranks_and_leading_dims():
    b = Builder()
    x = b.input((None, 8))
    g = b.group(b.op(ReduceSum(axes=(-1,), keepdims=False), x), b.op(Exp(), x))
    drop, full = sorted(g.outputs, key=lambda o: o.kind.value)
    assert (A.out_rank(g, drop), A.out_rank(g, full)) == (1, 2)
    assert A.lead(g, drop) == 0 and A.lead(g, full) == 0
