"""Run-time errors in compiled segments name the op and the blob that failed."""
import numpy as np
import pytest

from netjit.backends.base import DictStateStore
from netjit.backends.numba import NumbaBackend
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Add, AssignAdd, Placeholder, Relu, Reshape, TensorType
from netjit.errors import InvalidArgumentError


def _inputs(g, *ranks):
    out = []
    for i, r in enumerate(ranks):
        n = g.add(Placeholder(np.float32, (None,) * r), names=[f"in{i}"])
        g.inputs.append(n)
        out.append((n, 0))
    return out


@pytest.mark.parametrize("shape", [(2, 2), (2, -1)])
def test_reshape_of_the_wrong_size_names_reshape_and_blob(shape):
    g = Graph("seg_reshape")
    (x,) = _inputs(g, 1)
    r = g.add(Reshape(shape), [x], names=["grid"])
    g.outputs = [(g.add(Relu(), [(r, 0)], names=["out"]), 0)]
    exe = NumbaBackend().compile(g)
    assert exe([np.ones(4, np.float32)])[0].size == 4
    with pytest.raises(InvalidArgumentError) as info:
        exe([np.ones(6, np.float32)] if shape == (2, 2) else [np.ones(5, np.float32)])
    msg = str(info.value)
    assert msg.startswith("Reshape 'grid' in segment 'seg_reshape' failed at run time")
    assert isinstance(info.value.__cause__, ValueError)        # the compiled code's own error


def test_broadcast_mismatch_of_dynamic_dims_names_the_op_and_blob():
    g = Graph("seg_bcast")
    a, b = _inputs(g, 2, 2)
    s = g.add(Relu(), [a], names=["pos"])
    g.outputs = [(g.add(Add(), [(s, 0), b], names=["total"]), 0)]
    exe = NumbaBackend().compile(g)
    with pytest.raises(InvalidArgumentError, match=r"^Add 'total' in segment 'seg_bcast' failed at run time: "
                                                   r".*shapes do not broadcast"):
        exe([np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)])


def test_locating_the_op_does_not_apply_stateful_ops_twice():
    g = Graph("seg_state")
    x, y = _inputs(g, 1, 1)
    inc = g.add(AssignAdd("acc", TensorType(np.float32, (3,))), [x], names=["acc_new"])
    g.outputs = [(g.add(Add(), [(inc, 0), y], names=["bad"]), 0)]
    exe = NumbaBackend().compile(g)
    state = DictStateStore()
    with pytest.raises(InvalidArgumentError, match=r"^Add 'bad' in segment 'seg_state'"):
        exe([np.ones(3, np.float32), np.ones(2, np.float32)], state)   # AssignAdd ran, then Add failed
    (value,) = state.values.values()
    np.testing.assert_array_equal(value, np.ones(3))   # once: locating the op updated a scratch copy
