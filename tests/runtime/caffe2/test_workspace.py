"""Workspaces: Caffe2's blob visibility, running nets, the compile cache, variables."""
import numpy as np
import pytest

import netjit as nj
from netjit.backends.reference import OpFailure
from netjit.errors import InvalidArgumentError, NotFoundError


def test_child_reads_ancestors_and_writes_through():
    root = nj.Workspace()
    root.feed_blob("shared", np.int64(1))
    child = root.create_child()
    grandchild = child.create_child()
    assert grandchild.has_blob("shared") and grandchild.fetch_blob("shared") == 1
    grandchild.feed_blob("shared", np.int64(7))       # exists in root: written there
    grandchild.feed_blob("local", np.int64(3))        # exists nowhere: local to the grandchild
    assert root.fetch_blob("shared") == 7
    assert not root.has_blob("local") and not child.has_blob("local")
    assert grandchild.local_blobs() == ["local"]
    assert sorted(grandchild.blobs) == ["local", "shared"]
    assert not grandchild.remove_blob("shared")       # never touches the parent
    assert root.fetch_blob("shared") == 7
    assert grandchild.remove_blob("local") and not grandchild.has_blob("local")


def test_blobs_mapping_and_missing_blob_errors():
    ws = nj.Workspace()
    ws.blobs["a"] = [1.5, 2.5]
    assert ws.blobs["a"].dtype == np.float32           # Python floats are f32, as Net.Const
    assert "a" in ws.blobs and len(ws.blobs) == 1
    with pytest.raises(NotFoundError, match="Can't find blob 'nope'"):
        ws.fetch_blob("nope")
    ws.create_blob("empty")
    assert ws.has_blob("empty") and "empty" not in ws.blobs
    with pytest.raises(NotFoundError, match="never written"):
        ws.fetch_blob("empty")
    fed = np.arange(3)
    ws.feed_blob("copy", fed)
    fed[0] = 99                                         # feeding copies, as Caffe2's FeedBlob
    assert ws.fetch_blob("copy")[0] == 0


def test_net_run_stores_every_written_blob(config):
    ws = nj.Workspace(config=config)
    net = nj.Net("mlp")
    w = net.Const(np.full((3, 2), 0.5, np.float32), "w")
    h = net.Relu(net.MatMul(["x", w]), "h")
    net.Add([h, h], "y")
    x = np.array([[1, -2, 3], [4, 5, -6]], np.float32)
    ws.feed_blob("x", x)
    ws.run(net)
    hv = np.maximum(x @ np.full((3, 2), 0.5, np.float32), 0)
    np.testing.assert_allclose(ws.fetch_blob("h"), hv, rtol=1e-6)
    np.testing.assert_allclose(ws.fetch_blob("y"), 2 * hv, rtol=1e-6)
    assert {"w", f"{net.name}/MatMul", "h", "y"} <= set(ws.blobs)


def test_external_outputs_keep_only_declared_blobs(config):
    ws = nj.Workspace(config=config)
    net = nj.Net("ext")
    t = net.Mul(["x", "x"])
    net.Add([t, net.Const(np.float32(1))], "y")
    net.AddExternalOutput("y")
    ws.feed_blob("x", np.float32([1, 2]))
    ws.run(net)
    np.testing.assert_array_equal(ws.fetch_blob("y"), [2, 5])
    assert not ws.has_blob(str(t))


def test_missing_input_names_net_op_and_blob():
    ws = nj.Workspace()
    net = nj.Net("needs_x")
    net.Relu("x", "r")
    with pytest.raises(NotFoundError, match=r"net 'needs_x': op Relu 'r' reads blob 'x', which does not exist"):
        ws.run(net)
    p = nj.Net("ph")
    p.Relu(p.Placeholder("fed", np.float32, (None, 2)), "out")
    with pytest.raises(NotFoundError, match="placeholder 'fed' has no value"):
        ws.run(p)
    ws.feed_blob("fed", np.ones((3, 2), np.float32))
    ws.run(p)
    assert ws.fetch_blob("out").shape == (3, 2)
    ws.feed_blob("fed", np.ones((3, 4), np.float32))
    with pytest.raises(InvalidArgumentError, match="fed"):
        ws.run(p)


def test_compile_cache_reuses_across_iterations_and_shapes(config):
    ws = nj.Workspace(config=config)
    net = nj.Net("count")
    net.Add(["i", net.Const(np.int64(1))], "i")
    ws.feed_blob("i", np.int64(0))
    ws.run(nj.execution_step("loop", net, num_iter=10_000))
    assert ws.fetch_blob("i") == 10_000
    assert ws.root.net_cache.compilations == 1
    ws.feed_blob("i", np.arange(4, dtype=np.int64))     # rank 0 -> 1: a new signature
    ws.run(net)
    ws.feed_blob("i", np.arange(7, dtype=np.int64))     # rank 1 again, other shape: no recompile
    ws.run(net)
    np.testing.assert_array_equal(ws.fetch_blob("i"), np.arange(7) + 1)
    assert ws.root.net_cache.compilations == 2
    net.Mul(["i", "i"], "sq")                            # the net grew: compiled again, new op runs
    ws.run(net)
    np.testing.assert_array_equal(ws.fetch_blob("sq"), (np.arange(7) + 2) ** 2)
    assert ws.root.net_cache.compilations == 3
    child = ws.create_child()                            # children share the root's cache
    child.run(net)
    assert ws.root.net_cache.compilations == 3


def test_failing_net_writes_nothing(config):
    ws = nj.Workspace(config=config)
    net = nj.Net("fails_late")
    net.Const(np.float32(1), "early")

    def boom(inputs, outputs):
        raise RuntimeError("boom")
    net.Python(boom)([], [])
    with pytest.raises(OpFailure, match="boom") as info:
        ws.run(net)
    assert isinstance(info.value.__cause__, RuntimeError)         # the user's exception, as it was
    assert "fails_late" in str(info.value)
    assert any("boom" in n for n in info.value.__cause__.__notes__)      # the op is named
    assert not ws.has_blob("early")


def test_variables_live_in_the_workspace_with_write_through(config):
    ws = nj.Workspace(config=config)
    net = nj.Net("var")
    v = net.Variable(np.float32(0), "v")
    net.AssignAdd([v, net.Const(np.float32(1))], "v_new")
    for _ in range(3):
        ws.run(net)
    assert ws.fetch_blob("v_new") == 3
    child = ws.create_child()
    child.run(net)                                       # the variable exists above: shared
    assert ws.fetch_blob("v_new") == 4
    other = nj.Workspace(config=config)
    other.run(net)                                       # another tree starts fresh
    assert other.fetch_blob("v_new") == 1


def test_host_values_and_python_op_outputs(config):
    ws = nj.Workspace(config=config)
    net = nj.Net("host")
    net.Const("hello", "greeting")

    def shout(inputs, outputs):
        outputs[0].feed(np.array(len(inputs[0].item()), np.int64))
    net.Python(shout, dtypes=[np.int64])(["greeting"], ["n"])
    ws.run(net)
    assert ws.fetch_blob("greeting").item() == "hello"
    assert ws.fetch_blob("n") == 5 and ws.fetch_blob("n").dtype == np.int64
