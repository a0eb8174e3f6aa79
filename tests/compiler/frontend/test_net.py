"""The Net frontend: calling conventions, names, and build-time errors."""
import numpy as np
import pytest

import netjit as nj
from netjit.errors import InvalidArgumentError

F32 = np.float32


def test_outputs_none_name_list_and_count():
    net = nj.Net("conv")
    x = net.Placeholder("x", F32, (4, 6))
    auto = net.Relu(x)
    named = net.Relu(x, "r")
    a, b = net.Split(x, ["s0", "s1"], axis=1)
    p, q, r = net.Split(x, 3, axis=1)
    assert (auto, named, a, b) == ("conv/Relu", "r", "s0", "s1")
    assert [p, q, r] == ["conv/Split", "conv/Split_2", "conv/Split_3"]
    assert net.blob_type(q) == nj.compiler.ops.TensorType(F32, (4, 2))
    assert isinstance(named, nj.BlobReference) and named == "r" and hash(named) == hash("r")


def test_const_follows_caffe2_dtypes():
    net = nj.Net("consts")
    assert net.blob_type(net.Const(3)).dtype == np.int64
    assert net.blob_type(net.Const(2.5)).dtype == np.float32
    assert net.blob_type(net.Const(True)).dtype == np.bool_
    assert net.blob_type(net.Const([1.0, 2.0], dtype=np.float64)).dtype == np.float64
    assert net.blob_type(net.Const("hello")).dtype == object


def test_net_names_are_unique_and_clone_copies():
    a, b = nj.Net("dup"), nj.Net("dup")
    assert a.name != b.name
    x = a.Placeholder("x", F32, (2,))
    a.Neg(x, "y")
    c = a.Clone("copy")
    c.Abs("y", "z")
    assert len(a.ops) == 2 and len(c.ops) == 3 and c.name.startswith("copy")


def test_blob_reference_methods_forward_to_the_net():
    net = nj.Net("fwd")
    x = net.Placeholder("x", F32, (2,))
    y = x.Relu([], "y")
    assert y == "y" and net.ops[-1].inputs == ("x",)


@pytest.mark.parametrize("build, message", [
    (lambda n, x: n.Foo(x), r"Net 'errs.*' has no op or attribute 'Foo'"),
    (lambda n, x: n.Add([x]), r"Add 'errs.*/Add' in net 'errs.*': expects 2 inputs, got 1"),
    (lambda n, x: n.Reshape(x, "r", shape=(-1, -1)), r"Reshape 'r' in net 'errs.*': bad attribute: at most one -1"),
    (lambda n, x: n.Softmax(x, "s", bogus=1), r"Softmax 's' in net 'errs.*': bad attributes \['bogus'\]"),
    (lambda n, x: n.Add([x, n.Const(np.zeros(4, F32))], "bad"),
     r"Add 'bad' in net 'errs.*': input 'x' is f32\[\?,3\], '.*Const' is f32\[4\]: shapes \[\?,3\] and \[4\] do not broadcast"),
    (lambda n, x: n.Split(x, ["a", "b"], axis=1), r"Split 'a' in net 'errs.*': .*dim 3 does not split into 2 equal parts"),
    (lambda n, x: n.Placeholder("p", np.complex64), r"Placeholder 'p' in net 'errs.*': dtype complex64 is not supported"),
    (lambda n, x: n.Relu(x, 3.5), r"Relu in net 'errs.*': outputs must be None, a name, a list of names or a count"),
    (lambda n, x: n.Add(5), r"inputs must be a blob, a name or a list, got int"),
    (lambda n, x: n.Assign([x], "v"), r"Assign 'v' in net 'errs.*': expects \[variable, value\]"),
])
def test_bad_calls_fail_at_build_time_naming_net_op_and_blob(build, message):
    net = nj.Net("errs")
    x = net.Placeholder("x", F32, (None, 3))
    n_ops = len(net.ops)
    with pytest.raises(InvalidArgumentError, match=message):
        build(net, x)
    assert all(d.type == "Const" for d in net.ops[n_ops:])  # the failed op is not recorded
    net.Relu(x, "still_fine")  # and the net stays usable


def test_unknown_op_is_also_an_attribute_error():
    net = nj.Net("attr")
    assert not hasattr(net, "Foo") and hasattr(net, "Relu")


def test_const_rejects_non_string_host_values():
    import pytest
    import netjit as nj
    net = nj.Net("hostconst")
    with pytest.raises(nj.errors.InvalidArgumentError, match="host constants must be strings"):
        net.Const(object(), "o")
    assert str(net.Const("hello", "s")) == "s"
