"""One failure, one error type: a Python op's exception is an ``OpFailure`` on every backend and tier.

A caller's ``except`` must not depend on which tier happened to run: the
reference tier, the numba wrapper's host call, a tiered executable before and
after its switch, a Session, a Workspace net. ``__cause__`` is the user's own
exception; an op that never sets its output fails the same way everywhere.
"""
import numpy as np
import pytest

import netjit as nj
from netjit.backends.numba import NumbaBackend
from netjit.backends.reference import OpFailure, ReferenceBackend
from netjit.compiler.ir import Graph
from netjit.compiler.ops import InferError, Placeholder, Relu
from netjit.compiler.ops.python_op import PyFunc, Python


def divide_by_zero(inputs, outputs):
    outputs[0] = inputs[0] * (1 // 0)


def never_sets(inputs, outputs):
    pass


FAILURES = [(divide_by_zero, ZeroDivisionError), (never_sets, InferError)]


def _graph(fn) -> Graph:
    g = Graph("host_fails")
    x = g.add(Placeholder(np.float32, (None,)), names=["x"])
    g.inputs.append(x)
    r = g.add(Relu(), [(x, 0)], names=["r"])
    g.outputs = [(g.add(Python(PyFunc(fn), 1), [(r, 0)], names=["y"]), 0)]
    return g


def _check(info, cause):
    assert isinstance(info.value.__cause__, cause), repr(info.value.__cause__)
    msg = str(info.value)
    assert "Python 'y'" in msg and "host_fails" in msg, msg      # names the op and its blob, and the net


X = [np.arange(3, dtype=np.float32)]


@pytest.mark.parametrize("fn,cause", FAILURES)
def test_reference_backend(fn, cause):
    with pytest.raises(OpFailure) as info:
        ReferenceBackend().compile(_graph(fn))(X)
    _check(info, cause)


@pytest.mark.parametrize("fn,cause", FAILURES)
def test_numba_backend_untiered(fn, cause):
    exe = NumbaBackend().compile(_graph(fn), tiered=False)
    assert exe.tier == "numba"                   # the generated wrapper's host call, not a host segment
    with pytest.raises(OpFailure) as info:
        exe(X)
    _check(info, cause)


@pytest.mark.parametrize("fn,cause", FAILURES)
def test_tiered_before_and_after_the_switch(fn, cause):
    exe = NumbaBackend().compile(_graph(fn), tiered=True)
    with pytest.raises(OpFailure) as before:
        exe(X)
    assert exe.tier == "reference"
    exe.wait()
    with pytest.raises(OpFailure) as after:
        exe(X)
    assert exe.tier == "numba"
    _check(before, cause)
    _check(after, cause)


def _net(fn):
    net = nj.Net("host_fails")
    x = net.Placeholder("x", np.float32, (None,))
    net.Python(fn)([net.Relu(x, "r")], "y")
    return net


@pytest.mark.parametrize("fn,cause", FAILURES)
def test_a_session_before_and_after_wait_compiled(fn, cause):
    sess = nj.Session(_net(fn), nj.SessionConfig(tiered=True))
    for _ in range(2):
        with pytest.raises(OpFailure) as info:
            sess.run("y", {"x": X[0]})
        assert isinstance(info.value.__cause__, cause)
        sess.wait_compiled()


@pytest.mark.parametrize("fn,cause", FAILURES)
@pytest.mark.parametrize("tiered", [False, True])
def test_a_workspace_net(fn, cause, tiered):
    ws = nj.Workspace(config=nj.SessionConfig(tiered=tiered))
    ws.feed_blob("x", X[0])
    net = nj.Net("host_fails")
    net.Python(fn)([net.Relu("x", "r")], "y")
    for _ in range(3):                           # tiered: the reference tier first, then the compiled one
        with pytest.raises(OpFailure) as info:
            ws.run(net)
        assert isinstance(info.value.__cause__, cause)
    assert not ws.has_blob("y")


def test_a_nested_op_failure_is_not_wrapped_twice():
    from netjit.backends.reference import op_failure
    inner = OpFailure("Python 'y' in net 'inner' failed: ZeroDivisionError: division by zero")
    assert op_failure("Python 'z'", "net 'outer'", inner) is inner
