"""Saved nets: round trip, and every malformed or hostile file is a clean error."""
import json
import zipfile

import numpy as np
import pytest

import netjit as nj
from netjit.compiler.frontend.net import OpDef
from netjit.compiler.frontend.loading import LoadError
from netjit.compiler.frontend.saving import net_to_json
from netjit.compiler.ops import Softmax, TensorType
from netjit.compiler.pipeline import build_graph
from netjit.errors import InvalidArgumentError


def rich_net():
    """A net touching every saved form: npz and inline tensors, devices, tagged attrs."""
    rng = np.random.default_rng(0)
    net = nj.Net("saved")
    x = net.Placeholder("x", np.float32, (None, 100))
    w = net.Const(rng.standard_normal((100, 4)).astype(np.float32), "w")
    h = net.MatMul([x, w], "h", trans_b=False)
    with nj.device("cpu:1"):
        s1, s2 = net.Split(h, ["s1", "s2"], axis=1)
    net.Cast(net.Add([s1, net.Const(np.array([np.nan, 1.0], np.float32))]), "c", dtype=np.float64)
    net.ReduceSum(s2, "r", axes=(1,), keepdims=False)
    v = net.Variable(np.ones(3), "v")
    net.AssignAdd([v, net.Const(np.arange(3, dtype=np.float64), dtype=np.float64)], "v2")
    net.Print(net.Const("hello", "greeting"))
    net.AddExternalOutput("c", "r")
    return net


def same_ops(a, b):
    return [(d.type, d.inputs, d.outputs, d.op, d.device) for d in a.ops] == \
           [(d.type, d.inputs, d.outputs, d.op, d.device) for d in b.ops]


def test_round_trip_keeps_ops_devices_constants_and_outputs(tmp_path):
    net = rich_net()
    net.save(tmp_path / "n.json")
    assert (tmp_path / "n.npz").exists()
    back = nj.load(tmp_path / "n.json")
    assert same_ops(net, back)
    assert back.external_outputs == ["c", "r"]
    feeds = {"x": TensorType(np.float32, (None, 100))}
    g1, _ = build_graph(net.ops, "g", feeds, ["c", "r", "v2"])
    g2, _ = build_graph(back.ops, "g", feeds, ["c", "r", "v2"])
    assert g1 == g2   # same ops (constants compared by content), devices, edges and outputs


def test_small_constants_stay_inline_without_side_file(tmp_path):
    net = nj.Net("tiny")
    net.Add([net.Const(np.array([1.0, 2.0], np.float32)), net.Placeholder("x", np.float32, (2,))], "y")
    net.save(tmp_path / "t.json")
    assert not (tmp_path / "t.npz").exists()
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["constants"] is None and doc["version"] == 1
    assert same_ops(net, nj.load(tmp_path / "t.json"))


def test_unsaveable_attribute_is_an_error_naming_the_op(tmp_path):
    net = nj.Net("bad")
    net.ops.append(OpDef("Softmax", ("x",), ("y",), Softmax(axis=len)))  # a function attribute
    with pytest.raises(InvalidArgumentError, match=r"Softmax 'y'.*ops\[0\]\.attrs\.axis"):
        net_to_json(net)


def mutate(doc, path, value):
    """Set ``doc`` at a path of keys/indices to ``value`` (``...`` deletes)."""
    target = doc
    for k in path[:-1]:
        target = target[k]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


HOSTILE = [  # (path into the document, new value, expected location in the message)
    (["version"], 2, "version"),
    (["version"], "1", "version"),
    (["format"], "pickle", "format"),
    (["extra"], 1, "extra"),
    (["ops", 0, "extra"], 1, r"ops\[0\]\.extra"),
    (["ops", 0, "type"], "os.system", r"ops\[0\]\.type"),
    (["ops", 0, "type"], ["Add"], r"ops\[0\]\.type"),
    (["ops", 2, "attrs", "trans_b"], "yes", r"ops\[2\]\.attrs\.trans_b"),
    (["ops", 3, "attrs", "evil"], 1, r"ops\[3\]\.attrs\.evil"),
    (["ops", 3, "inputs"], "x", r"ops\[3\]\.inputs"),
    (["ops", 3, "inputs", 0], 7, r"ops\[3\]\.inputs\[0\]"),
    (["ops", 2, "inputs"], ["x"], r"ops\[2\]: MatMul"),
    (["ops", 3, "device"], "gpu:zero", r"ops\[3\]"),
    (["ops", 0, "attrs", "dtype"], {"dtype": "object"}, r"ops\[0\]\.attrs\.dtype"),
    (["ops", 0, "attrs", "dtype"], {"__reduce__": "os.system"}, r"ops\[0\]\.attrs\.dtype"),
    (["ops", 1, "attrs", "value", "tensor", "shape"], [100000, 100000, 100], r"ops\[1\]\.attrs\.value"),
    (["ops", 1, "attrs", "value", "tensor", "shape"], [-1, 4], r"ops\[1\]\.attrs\.value\.tensor\.shape\[0\]"),
    (["ops", 1, "attrs", "value", "tensor", "dtype"], "object", r"ops\[1\]\.attrs\.value\.tensor\.dtype"),
    (["ops", 1, "attrs", "value", "tensor", "npz"], "../../etc/passwd", r"ops\[1\]\.attrs\.value"),
    (["ops", 1, "attrs", "value", "tensor", "npz"], "c9", r"ops\[1\]\.attrs\.value\.tensor\.npz"),
    (["ops", 1, "attrs", "value", "tensor", "shape"], [4, 100], r"ops\[1\]\.attrs\.value\.tensor\.npz"),
    (["constants"], "/etc/passwd", "constants"),
    (["ops"], {"0": 1}, "ops"),
    (["name"], ...,  "top level"),
]


@pytest.mark.parametrize("path, value, where", HOSTILE, ids=[".".join(map(str, h[0])) + "=" + repr(h[1])[:20]
                                                             for h in HOSTILE])
def test_hostile_document_is_a_clean_error_with_location(tmp_path, path, value, where):
    rich_net().save(tmp_path / "n.json")
    doc = mutate(json.loads((tmp_path / "n.json").read_text()), path, value)
    (tmp_path / "n.json").write_text(json.dumps(doc))
    with pytest.raises(LoadError, match=where) as info:
        nj.load(tmp_path / "n.json")
    assert str(tmp_path / "n.json") in str(info.value)


def test_inline_data_is_checked_against_shape_and_dtype(tmp_path):
    net = nj.Net("tiny")
    net.Const(np.array([1, 2], np.int32), "c")
    net.save(tmp_path / "t.json")
    for data, where in [([1], r"ops\[0\]\.attrs\.value\.tensor\.data"),
                        ([1, "2"], r"data\[1\]"), ([1, 2**40], "do not fit"), ([1, True], r"data\[1\]")]:
        doc = json.loads((tmp_path / "t.json").read_text())
        doc["ops"][0]["attrs"]["value"]["tensor"]["data"] = data
        (tmp_path / "t.json").write_text(json.dumps(doc))
        with pytest.raises(LoadError, match=where):
            nj.load(tmp_path / "t.json")


def test_truncated_json_npz_and_nan_literals_are_clean_errors(tmp_path):
    rich_net().save(tmp_path / "n.json")
    text = (tmp_path / "n.json").read_text()
    for cut in (0, 1, len(text) // 3, len(text) - 3):
        (tmp_path / "n.json").write_text(text[:cut])
        with pytest.raises(LoadError, match="line|JSON"):
            nj.load(tmp_path / "n.json")
    for hostile in ("[" * 100000, "[1, 2]", '"netjit-net"', "null"):
        (tmp_path / "n.json").write_text(hostile)
        with pytest.raises(LoadError, match="JSON|expected an object"):
            nj.load(tmp_path / "n.json")
    (tmp_path / "n.json").write_text(text.replace('"version": 1', '"version": NaN'))
    with pytest.raises(LoadError, match="NaN"):
        nj.load(tmp_path / "n.json")
    (tmp_path / "n.json").write_text(text)
    npz = (tmp_path / "n.npz").read_bytes()
    (tmp_path / "n.npz").write_bytes(npz[: len(npz) // 2])
    with pytest.raises(LoadError, match="n.npz"):
        nj.load(tmp_path / "n.json")
    with pytest.raises(LoadError, match="no such file"):
        nj.load(tmp_path / "missing.json")


def test_object_array_in_side_file_is_refused_without_unpickling(tmp_path):
    rich_net().save(tmp_path / "n.json")
    with zipfile.ZipFile(tmp_path / "n.npz", "w") as zf, zf.open("c0.npy", "w") as fh:
        np.lib.format.write_array(fh, np.array([print], dtype=object), allow_pickle=True)
    with pytest.raises(LoadError, match=r"ops\[1\]\.attrs\.value\.tensor\.npz.*object"):
        nj.load(tmp_path / "n.json")


def test_load_budget_refuses_huge_constants(tmp_path, monkeypatch):
    rich_net().save(tmp_path / "n.json")
    monkeypatch.setenv("NETJIT_MAX_LOAD_BYTES", "1000")
    with pytest.raises(LoadError, match="NETJIT_MAX_LOAD_BYTES"):
        nj.load(tmp_path / "n.json")


def counting_plan():
    """init sets acc; a loop adds 1 three times; a second step scales it."""
    from netjit.compiler.frontend.steps import Plan, execution_step
    init = nj.Net("init")
    init.Const(np.zeros(3, np.float32), "acc")
    body = nj.Net("body")
    body.Add(["acc", body.Const(np.ones(3, np.float32))], "acc")
    scale = nj.Net("scale")
    scale.Mul(["acc", scale.Const(np.full(3, 2.0, np.float32))], "out")
    plan = Plan("counting")
    plan.AddStep(execution_step("init", init))
    plan.AddStep(execution_step("work", [execution_step("loop", body, num_iter=3), execution_step("s", scale)]))
    return plan


def test_plan_round_trip_runs_the_same(tmp_path):
    from netjit.compiler.frontend.loading import load_net
    plan = counting_plan()
    plan.save(tmp_path / "p.json")
    back = nj.load(tmp_path / "p.json")
    assert [s.name for s in back.Steps()] == ["init", "work"]
    loop = back.Steps()[1].Substeps()[0]
    assert loop.num_iter == 3 and same_ops(loop.Nets()[0], plan.Steps()[1].Substeps()[0].Nets()[0])
    results = []
    for p in (plan, back):
        ws = nj.Workspace()
        ws.run(p)
        results.append(ws.fetch_blob("out"))
    np.testing.assert_array_equal(results[0], np.full(3, 6.0, np.float32))
    np.testing.assert_array_equal(results[1], results[0])
    assert same_ops(load_net(tmp_path / "p.json", "scale"), plan.Steps()[1].Substeps()[1].Nets()[0])
    with pytest.raises(LoadError, match=r"#NAME"):
        load_net(tmp_path / "p.json")


@pytest.mark.parametrize("path, value, where", [
    (["steps", 0, "nets", 0], "nope", r"steps\[0\]\.nets\[0\]: no net named 'nope'"),
    (["steps", 1, "substeps", 0, "num_iter"], "3", r"steps\[1\]\.substeps\[0\]\.num_iter"),
    (["steps", 1, "substeps", 0, "num_iter"], True, r"steps\[1\]\.substeps\[0\]\.num_iter"),
    (["steps", 1, "evil"], 1, r"steps\[1\]\.evil"),
    (["nets", 1, "name"], lambda doc: doc["nets"][0]["name"], r"nets\[1\]\.name: two nets"),
    (["nets", 2, "ops", 1, "type"], "Exec", r"nets\[2\]\.ops\[1\]\.type"),
    (["steps", 1, "nets"], lambda doc: [doc["nets"][0]["name"]], r"steps\[1\]: .*both network and substeps"),
])
def test_hostile_plan_is_a_clean_error_with_location(tmp_path, path, value, where):
    from netjit.compiler.frontend.saving import save_plan
    save_plan(counting_plan(), tmp_path / "p.json")
    doc = json.loads((tmp_path / "p.json").read_text())
    doc = mutate(doc, path, value(doc) if callable(value) else value)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(LoadError, match=where):
        nj.load(tmp_path / "p.json")


FIXTURES = __import__("pathlib").Path(__file__).parents[2] / "fixtures"


def test_version_1_net_file_loads_and_is_written_the_same():
    """tests/fixtures/{net,plan}_v1.* were written by net_io/net_codec before the shared codec."""
    back = nj.load(FIXTURES / "net_v1.json")
    assert [(d.type, d.op, d.device) for d in back.ops] == [(d.type, d.op, d.device) for d in rich_net().ops]
    old = json.loads((FIXTURES / "net_v1.json").read_text())
    doc, arrays = net_to_json(back)
    assert {**doc, "name": "saved", "constants": old["constants"]} == old   # the name is made unique on load
    with np.load(FIXTURES / "net_v1.npz") as side:
        assert side.files == list(arrays) and all(side[k].tobytes() == arrays[k].tobytes() for k in side.files)
    ws = nj.Workspace()
    ws.run(nj.load(FIXTURES / "plan_v1.json"))
    np.testing.assert_array_equal(ws.fetch_blob("out"), np.full(3, 6.0, np.float32))


def test_a_constant_used_twice_is_saved_once(tmp_path):
    net = nj.Net("twice")
    big = np.arange(100, dtype=np.float32)
    net.Add([net.Const(big, "a"), net.Const(big.copy(), "b")], "c")
    net.save(tmp_path / "t.json")
    with np.load(tmp_path / "t.npz") as side:
        assert side.files == ["c0"]
    assert same_ops(net, nj.load(tmp_path / "t.json"))
