"""Lowering a Net to SSA: writes, rewrites, inputs, feeds, devices, state ordering."""
import re

import numpy as np
import pytest

import netjit as nj
from netjit.backends.base import DictStateStore
from netjit.backends.reference import evaluate
from netjit.compiler import ops as O
from netjit.compiler.frontend.lowering import lower_net
from netjit.compiler.ir.reachability import remove_unneeded
from netjit.compiler.ops import TensorType
from netjit.errors import InvalidArgumentError

F32 = np.float32


def t(*shape, dtype=F32):
    return TensorType(dtype, shape)


def run(lowered, fetches, feeds=(), state=None):
    """Evaluate the lowered graph for ``fetches`` (blob names), feeding in input order."""
    g = lowered.graph
    g.outputs = [lowered.blobs[f] for f in fetches]
    return evaluate(g, list(feeds), state)


def test_in_place_write_makes_a_new_ssa_value_and_reads_see_the_latest():
    net = nj.Net("inplace")
    x = net.Placeholder("x", F32, (2,))
    y = net.Relu(x, "y")
    net.Add([y, y], y)        # y := y + y, in place
    z = net.Mul([y, x], "z")  # reads the second y
    low = lower_net(net.ops, net.name, {"x": t(2)})
    g = low.graph
    first, second = g.find("y")
    assert first != second and low.blobs["y"] == second
    assert g.inputs_of(low.blobs["z"][0]) == [second, low.blobs["x"]]
    assert "%y~2:f32[2] = Add(%y, %y)" in str(g)
    xv = np.array([-1.0, 2.0], F32)
    got_y, got_z = run(low, [y, z], [xv])
    np.testing.assert_array_equal(got_y, [0.0, 4.0])
    np.testing.assert_array_equal(got_z, [0.0, 8.0])


def test_a_blob_written_three_times_fetches_its_last_write():
    net = nj.Net("rewrite")
    c = net.Const(1.0, "c")
    for _ in range(3):
        net.Add([c, c], c)
    low = lower_net(net.ops, net.name)
    assert len(low.graph.find("c")) == 4
    np.testing.assert_array_equal(run(low, ["c"])[0], np.float32(8.0))
    with nj.Session(net) as sess:
        assert sess.run(c) == np.float32(8.0)


def test_external_inputs_are_blobs_read_before_written():
    net = nj.Net("ext")
    net.Add(["a", "b"], "s")
    net.Mul(["s", "a"], "b")  # b is written after being read: still external
    assert [str(b) for b in net.external_inputs] == ["a", "b"]
    low = lower_net(net.ops, net.name, inputs={"a": t(2), "b": t(2)})
    g = low.graph
    assert [g.name_of_input(n) for n in g.inputs] == ["a", "b"]
    a, b = np.float32([1, 2]), np.float32([3, 4])
    s, b2 = run(low, ["s", "b"], [a, b])
    np.testing.assert_array_equal(s, a + b)
    np.testing.assert_array_equal(b2, (a + b) * a)
    unfed = lower_net(net.ops, net.name)
    assert f"blob 'a' is read by Add 's' in net {net.name!r}, but nothing produces it and it is not fed" \
        in unfed.missing["s"]


def test_devices_come_from_nested_device_scopes_in_canonical_form():
    net = nj.Net("dev")
    x = net.Placeholder("x", F32, (2,))
    with nj.device("/CPU:1"):
        a = net.Neg(x, "a")
        with nj.device("cpu:2"):
            b = net.Abs(a, "b")
        c = net.Exp(b, "c")
    d = net.Relu(c, "d")
    g = lower_net(net.ops, net.name, {"x": t(2)}).graph
    devices = {g.names(n)[0]: g.device(n) for n in g.nodes()}
    assert devices == {"x": None, "a": "cpu:1", "b": "cpu:2", "c": "cpu:1", "d": None}
    assert "%a:f32[2] = Neg(%x) @cpu:1" in str(g)
    with pytest.raises(InvalidArgumentError, match="bad device name 'gpu'"):
        with nj.device("gpu"):
            pass
    assert d == "d"


def test_feeding_an_intermediate_blob_skips_its_producer():
    net = nj.Net("skip")
    x = net.Placeholder("x", F32, (None, 2))
    h = net.MatMul([x, net.Const(np.eye(2, dtype=F32))], "h")
    y = net.Relu(h, "y")
    low = lower_net(net.ops, net.name, {"h": t(None, None)})
    g = low.graph
    ops = [g.op(n).name for n in g.nodes()]
    assert "MatMul" not in ops and "Placeholder" in ops
    assert [g.name_of_input(n) for n in g.inputs] == ["h"]
    hv = np.float32([[-1, 3]])
    np.testing.assert_array_equal(run(low, ["y"], [hv])[0], [[0, 3]])
    assert y in low.blobs and "x" in low.missing  # x itself is not fed


def test_an_unfed_placeholder_is_reported_with_the_message():
    net = nj.Net("unfed")
    x = net.Placeholder("x", F32, (None, 3))
    y = net.Relu(net.Neg(x), "y")
    net.Const(2.0, "k")
    low = lower_net(net.ops, net.name)
    assert low.missing["y"] == "You must feed a value for placeholder 'x' (f32[?,3])"
    assert low.missing["x"] == low.missing["y"]
    assert "k" in low.blobs and low.placeholders == {"x": t(None, 3)}
    with nj.Session(net) as sess:
        with pytest.raises(InvalidArgumentError, match=r"cannot fetch 'y' in net 'unfed': You must feed a value "
                                                       r"for placeholder 'x' \(f32\[\?,3\]\)"):
            sess.run(y)
        assert sess.run("k") == np.float32(2.0)


def test_feeding_a_placeholder_the_wrong_dtype_fails_at_lowering():
    net = nj.Net("fdtype")
    net.Placeholder("x", F32, (2,))
    with pytest.raises(InvalidArgumentError, match=r"Cannot feed value of dtype int32 for placeholder 'x' in "
                                                   r"net 'fdtype', which has dtype float32"):
        lower_net(net.ops, net.name, {"x": t(2, dtype=np.int32)})


def test_a_fed_placeholder_declared_without_shape_takes_the_rank_of_the_feed():
    net = nj.Net("anyrank")
    x = net.Placeholder("x", F32)
    net.Exp(net.Add([x, x]), "y")
    for fed, want in ((t(2, 3), t(None, None)), (t(None, 4, 5), t(None, None, None)),
                      (TensorType(F32, None), TensorType(F32, None))):
        low = lower_net(net.ops, net.name, {"x": fed})
        g = low.graph
        g.verify()
        (n,) = g.inputs
        assert g.types(n) == (want,) and g.op(n) == O.Placeholder(F32, want.shape)
        assert g.type(low.blobs["y"]) == want
        assert low.placeholders == {"x": TensorType(F32, None)}     # what was declared
    net2 = nj.Net("partial")
    net2.Placeholder("x", F32, (None, 3))                          # declared dims stay
    low = lower_net(net2.ops, net2.name, {"x": t(None, None)})
    assert low.graph.types(low.graph.inputs[0]) == (t(None, 3),)
    with pytest.raises(InvalidArgumentError, match=r"Cannot feed value of dtype int32 for placeholder 'x'"):
        lower_net(net.ops, net.name, {"x": t(2, dtype=np.int32)})


def _names_of(g, nodes):
    return [g.op(n).name for n in nodes]


def test_variable_reads_and_updates_are_ordered_by_control_edges():
    net = nj.Net("vars")
    v = net.Variable(np.float32([1, 2]), "v")
    before = net.Neg(v, "before")                  # reads v's initial value
    a1 = net.AssignAdd([v, net.Const(np.float32([10, 10]))], "a1")
    after = net.Copy(v, "after")                   # data-reads the Variable node...
    v2 = net.Variable(np.float32([1, 2]), "v")     # ...a fresh read is ordered after the update
    a2 = net.Assign([v, net.Const(np.float32([0, 0]))], "a2")
    low = lower_net(net.ops, net.name)
    g = low.graph
    read1, upd1, read2, upd2 = (low.blobs[b][0] for b in ("v", "a1", "v", "a2"))
    read1 = g.find("v")[0][0]
    # read -> write: order only; write -> read and write -> write: dependencies
    assert g.control_edges(upd1) == [(read1, True)]
    assert g.control_edges(read2) == [(upd1, False)]
    assert g.control_edges(upd2) == sorted([(read2, True), (upd1, False)])
    assert isinstance(g.op(upd1), O.AssignAdd) and g.op(upd1).var_name == "v"
    state = DictStateStore()
    outs = run(low, [before, a1, v2, a2], state=state)
    np.testing.assert_array_equal(outs[0], [-1, -2])
    np.testing.assert_array_equal(outs[1], [11, 12])
    np.testing.assert_array_equal(outs[2], [11, 12])
    np.testing.assert_array_equal(outs[3], [0, 0])
    np.testing.assert_array_equal(state.values[("", "v")], [0, 0])
    assert after in low.blobs


def _pruned_to(low, fetches):
    g = low.graph.copy()
    g.outputs = [low.blobs[f] for f in fetches]
    remove_unneeded(g)
    g.verify()
    return g


def test_pruning_does_not_follow_a_read_to_a_later_write():
    # the Variable node is only the Assign's handle: fetching the Assign must not read it
    net = nj.Net("handle")
    v = net.Variable(np.float32([1, 2]), "v")
    net.Assign([v, net.Const(np.float32([5, 5]))], "v_set")
    low = lower_net(net.ops, net.name)
    g = _pruned_to(low, ["v_set"])
    assert _names_of(g, g.nodes()) == ["Const", "Assign"] and "^" not in str(g)
    both = _pruned_to(low, [v, "v_set"])        # both run: the read still comes first
    read, upd = both.find("v")[0][0], both.find("v_set")[0][0]
    assert both.control_edges(upd) == [(read, True)] and "^?%v" in str(both)
    state = DictStateStore()
    outs = evaluate(both, [], state)
    np.testing.assert_array_equal(outs[0], [1, 2])
    np.testing.assert_array_equal(outs[1], [5, 5])
    net.Variable(np.float32([1, 2]), "v")       # a read after the write needs the write
    later = _pruned_to(lower_net(net.ops, net.name), ["v"])
    assert _names_of(later, later.nodes()) == ["Const", "Assign", "Variable"]


def test_a_write_chain_keeps_earlier_writes_but_not_earlier_reads():
    net = nj.Net("chain")
    v = net.Variable(np.float32([1]), "v")
    net.AssignAdd([v, net.Const(np.float32([1]))], "a1")
    net.Neg(net.Variable(np.float32([1]), "v"), "mid")
    net.Assign([v, net.Const(np.float32([7]))], "a2")
    g = _pruned_to(lower_net(net.ops, net.name), ["a2"])
    assert _names_of(g, g.nodes()) == ["Const", "AssignAdd", "Const", "Assign"]


def test_assign_to_something_that_is_not_a_variable_is_an_error():
    net = nj.Net("notvar")
    c = net.Const(np.float32([1]), "c")
    net.Assign([c, c], "out")
    with pytest.raises(InvalidArgumentError, match=r"Assign 'out' in net 'notvar': input 'c' is not a variable"):
        lower_net(net.ops, net.name)


def test_host_ops_keep_their_program_order():
    net = nj.Net("host")
    x = net.Const(np.float32([1]), "x")
    net.Print(x)
    net.Print(net.Neg(x))
    g = lower_net(net.ops, net.name).graph
    p1, p2 = [n for n in g.nodes() if isinstance(g.op(n), O.Print)]
    assert g.control_inputs(p2) == [p1]


def test_lowering_names_the_op_when_types_clash_across_external_inputs():
    net = nj.Net("clash")
    net.Add(["a", "b"], "s")
    with pytest.raises(InvalidArgumentError, match=rf"Add 's' in net {re.escape(repr(net.name))}: input 'a' is "
                                                   r"f32\[3\], 'b' is f32\[4\]: shapes \[3\] and \[4\] do not broadcast"):
        lower_net(net.ops, net.name, inputs={"a": t(3), "b": t(4)})
