"""Simplifications that drop or merge operands keep what those operands did."""
import numpy as np
import pytest

import netjit as nj
from netjit.errors import InvalidArgumentError


@pytest.mark.parametrize("opt_level", [0, 1, 2, 3])
def test_simplify_keeps_what_a_dropped_operand_did_and_the_errors_it_raised(opt_level):
    """x * 0 -> zeros must not drop an AssignAdd (or a Python op) only x needed, and
    Reshape(Reshape(x, (-1, 4)), (-1,)) must still fail where the inner one would."""
    net = nj.Net("keep_effects")
    v = net.Variable(np.zeros(3, np.int64), "v")
    net.Mul([net.AssignAdd([v, net.Const(np.ones(3, np.int64))]), net.Const(np.zeros(3, np.int64))], "y")
    x = net.Placeholder("x", np.float32, (None,))
    net.Reshape(net.Reshape(x, shape=(-1, 4)), "flat", shape=(-1,))
    with nj.Session(net, nj.SessionConfig(opt_level=opt_level, backend="reference")) as s:
        for _ in range(3):
            np.testing.assert_array_equal(s.run("y"), [0, 0, 0])
        np.testing.assert_array_equal(s.run("v"), [3, 3, 3])
        np.testing.assert_array_equal(s.run("flat", {"x": np.arange(8, dtype=np.float32)}), np.arange(8))
        with pytest.raises(InvalidArgumentError, match="cannot reshape"):
            s.run("flat", {"x": np.arange(6, dtype=np.float32)})
