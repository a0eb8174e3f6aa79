"""loop_schedule: prange, pipelined rows, the stash and blocked sums per group."""
from netjit.backends.numba import loop_schedule as S
from netjit.compiler.ops import Add, Div, Mul, ReduceMean, ReduceSum, Sqrt, Sub

from loop_graphs import Builder, softmax


def _softmax(shape):
    b = Builder()
    return b.group(softmax(b, b.input(shape)))


def test_parallel_softmax_rows_are_pipelined_and_the_exp_stashed():
    g = _softmax((None, 16))
    s = S.schedule(g, parallel=True)
    assert s.prange_outer and s.pipelined
    assert s.stash == S.Stash(2, g.outputs[0])        # exp: stored by pass 1, read by pass 2
    assert s.nonpositive == frozenset({1}) and s.narrow == ()
    serial = S.schedule(g, parallel=False)
    assert not serial.prange_outer and not serial.pipelined and serial.stash == s.stash


def test_a_vector_softmax_runs_its_row_loop_serially():
    s = S.schedule(_softmax((None,)), parallel=True)
    assert not s.prange_outer and not s.pipelined


def test_layer_norm_without_a_costly_op_stashes_nothing():
    b = Builder()
    x = b.input((None, 16))
    d = b.op(Sub(), x, b.op(ReduceMean(axes=(-1,)), x))
    var = b.op(ReduceMean(axes=(-1,)), b.op(Mul(), d, d))
    g = b.group(b.op(Div(), d, b.op(Sqrt(), b.op(Add(), var, b.const(1e-5)))))
    s = S.schedule(g, parallel=True)
    assert s.stash is None and s.pipelined and S.first_pass(g) == [0]


def test_a_narrow_reduction_disables_pipelining():
    b = Builder()
    a, c = b.input((None, None)), b.input((None, None))
    t = b.op(Add(), a, c)
    g = b.group(b.op(Add(), t, b.op(ReduceSum(axes=(-1,)), a)))
    s = S.schedule(g, parallel=True)
    assert s.narrow and not s.pipelined and s.stash is None


def test_float32_sums_add_blocks_over_serial_rows_longer_than_a_block():
    b = Builder()
    g = b.group(b.op(ReduceSum(axes=(-1,)), b.input((None, None))))
    assert S.blocked_sums(g, [0], serial=True, bounded=False) == [0]
    assert S.blocked_sums(g, [0], serial=False, bounded=False) == []
    b = Builder()
    g = b.group(b.op(ReduceSum(axes=(-1,)), b.input((None, 16))))
    assert S.blocked_sums(g, [0], serial=True, bounded=False) == []
    assert S.blocked_sums(g, [0], serial=True, bounded=True) == [0]
