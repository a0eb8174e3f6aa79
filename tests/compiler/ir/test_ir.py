"""The IR: verify(), text printing and parsing, exact JSON, DOT."""
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from netjit.backends.reference import evaluate
from netjit.compiler import ops as O
from netjit.compiler.ir import Graph
from netjit.compiler.ir.dot import PALETTE, to_dot
from netjit.compiler.ir.parser import constants_of, parse_graph
from netjit.compiler.ir.serialize import graph_from_json, graph_to_json, load_graph, save_graph
from netjit.compiler.ops import ConstValue, TensorType
from netjit.errors import InvalidArgumentError
from strategies import random_graph

F32 = np.dtype(np.float32)


def small_graph() -> Graph:
    """x:f32[?,3] -> MatMul with a constant -> Relu, rewritten 'y', a Split, a Print."""
    g = Graph("small")
    x = g.add(O.Placeholder(F32, (None, 3)), names=["x"])
    g.inputs.append(x)
    w = g.add(O.Const(ConstValue(np.arange(6, dtype=np.float32).reshape(3, 2))), names=["w"])
    mm = g.add(O.MatMul(), [(x, 0), (w, 0)], device="cpu:0")
    y = g.add(O.Relu(), [(mm, 0)], names=["y"], device="cpu:1")
    y2 = g.add(O.Add(), [(y, 0), (y, 0)], names=["y"])
    sp = g.add(O.Split(axis=1, num=2), [(y2, 0)], names=[None, "b"])
    pr = g.add(O.Print("b"), [(sp, 1)])
    g.add_control(mm, pr)
    g.set_device(mm, "cpu:0", "explicit device")
    g.outputs = [(y2, 0), (sp, 0)]
    g.targets = [pr]
    return g


# -- verify -----------------------------------------------------------------
def test_verify_accepts_a_well_formed_graph():
    small_graph().verify()


def test_verify_rejects_a_cycle():
    g = small_graph()
    g.nx.add_edge(4, 2, src_out=0, dst_in=2, control=False)  # y -> MatMul closes a loop
    with pytest.raises(InvalidArgumentError, match=r"graph 'small' has a cycle through nodes"):
        g.verify()


def test_verify_rejects_an_unfilled_input_port():
    g = small_graph()
    key = next(k for u, _, k, d in g.nx.in_edges(2, keys=True, data=True) if d["dst_in"] == 0)
    g.nx.remove_edge(0, 2, key)  # MatMul loses its port 0: port 1 dangles alone
    with pytest.raises(InvalidArgumentError, match=r"node 2 \(MatMul\): input ports \[1\] are not filled"):
        g.verify()


def test_verify_rejects_a_doubly_filled_port():
    g = small_graph()
    g.nx.add_edge(0, 2, src_out=0, dst_in=1, control=False)
    with pytest.raises(InvalidArgumentError, match=r"input ports \[0, 1, 1\]"):
        g.verify()


def test_verify_rejects_a_bad_attribute():
    g = small_graph()
    bad = O.Split(axis=1, num=2)
    object.__setattr__(bad, "num", 0)  # bypasses the constructor's check, as a buggy pass might
    g.nx.nodes[5]["op"] = bad
    with pytest.raises(InvalidArgumentError, match=r"node 5 \(Split 'b'\): bad op: num must be >= 1, got 0"):
        g.verify()


def test_verify_rejects_an_attribute_of_the_wrong_type():
    g = small_graph()
    g.nx.nodes[5]["op"] = O.Split(axis="1", num=2)  # the constructor does not check types
    with pytest.raises(InvalidArgumentError, match=r"node 5 \(Split 'b'\): bad op: attribute axis='1' is not int"):
        g.verify()


def test_verify_rejects_types_that_disagree_with_inference():
    g = small_graph()
    g.nx.nodes[3]["types"] = (TensorType(np.float64, (None, 2)),)
    with pytest.raises(InvalidArgumentError, match=r"node 3 \(Relu 'y'\): recorded types \['f64\[\?,2\]'\] "
                                                   r"differ from inferred \['f32\[\?,2\]'\]"):
        g.verify()


def test_verify_rejects_a_missing_output():
    g = small_graph()
    g.outputs.append((99, 0))
    with pytest.raises(InvalidArgumentError, match=r"output \(99, 0\) does not exist"):
        g.verify()


# -- text -------------------------------------------------------------------
SMALL_TEXT = """\
graph small(%x) {
  %x:f32[?,3] = Placeholder(shape=(None, 3))
  %w:f32[3,2] = Const(value=f32[3,2][[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
  %2:f32[?,2] = MatMul(%x, %w) @cpu:0  # explicit device
  %y:f32[?,2] = Relu(%2) @cpu:1
  %y~2:f32[?,2] = Add(%y, %y)
  %5:f32[?,1], %b:f32[?,1] = Split(%y~2, axis=1)
  %6:() = Print(%b, blob="b") ^%2
  return %y~2, %5
  targets %6
}"""


def test_printer_golden_text():
    assert str(small_graph()) == SMALL_TEXT


def test_text_round_trip_restores_everything_including_placement_reasons():
    g = small_graph()
    back = parse_graph(str(g))
    assert back == g
    assert str(back) == str(g)
    assert back.meta(2)["placement"] == "explicit device"


@pytest.mark.parametrize("old, new", [
    ("@cpu:1", "@cpu:2"), ("axis=1", "axis=-1"), ("%b", "%c"), ("[4.0, 5.0]", "[4.0, 5.5]"),
    (" ^%2", ""), ("Add(%y, %y)", "Mul(%y, %y)"), ("return %y~2, %5", "return %5, %y~2"), ("  targets %6\n", ""),
    ("graph small(%x)", "graph small"), ("%6:() = Print(%b", "%6:() = Print(%5"),
])
def test_any_change_to_the_text_gives_an_unequal_graph(old, new):
    assert old in SMALL_TEXT
    assert parse_graph(SMALL_TEXT.replace(old, new)) != small_graph()


def fused_graph() -> Graph:
    g = Graph("fused")
    a = g.add(O.Placeholder(F32, (2, None)), names=["a b"])
    c = g.add(O.Const(ConstValue(np.float32(0.5))))
    prog = ((O.Mul(), (0, 1)), (O.Tanh(), (2,)), (O.Cast(np.dtype(np.float64)), (3,)))
    f = g.add(O.FusedElementwise(prog, 2, (4, 2)), [(a, 0), (c, 0)], names=["f", None], device="weird dev")
    s = g.add(O.Const(ConstValue(np.array(["é\n", 'q"'], dtype=object))), names=["7"])
    g.set_device(s, None, '"quoted" reason\n')
    g.inputs.append(a)
    g.outputs = [(f, 0), (f, 1), (s, 0)]
    return g


def test_text_round_trip_of_odd_names_devices_strings_and_fused_programs():
    g = fused_graph()
    text = str(g)
    assert '%"a b":f32[2,?]' in text and "program=((Mul(), (0, 1)), (Tanh(), (2,)), (Cast(dtype=f64), (3,)))" in text
    assert '@"weird dev"' in text and '%"7":str[2] = Const(value=str[2]["\\u00e9\\n", "q\\""])' in text
    back = parse_graph(text)
    assert back == g and str(back) == text
    assert back.meta(3)["placement"] == '"quoted" reason\n'


def test_large_constants_print_abbreviated_and_need_the_constants_table():
    g = Graph("big")
    arr = np.linspace(0, 1, 20, dtype=np.float64).reshape(4, 5)
    n = g.add(O.Const(ConstValue(arr)), names=["c"])
    g.outputs = [(n, 0)]
    text = str(g)
    digest = ConstValue(arr).digest[:12]
    assert f"Const(value=f64[4,5]#{digest})" in text
    with pytest.raises(InvalidArgumentError, match=rf"line 2: constant f64\[4,5\]#{digest} is abbreviated.*"
                                                   r"constants=constants_of\(graph\)"):
        parse_graph(text)
    table = constants_of(g)
    assert list(table) == [digest] and table[digest] is g.op(n).value.array
    assert parse_graph(text, {digest: arr}) == g
    assert parse_graph(text, constants_of(g)) == g


@pytest.mark.parametrize("text, message", [
    ("", r"line 1: expected 'graph <name> \{'"),
    ("graph g {\n  %x:f32[] = Nope()\n}", r"line 2: unknown op 'Nope'"),
    ("graph g {\n  %x:f32[] = Neg(%y)\n}", r"line 2: value %y is not defined on an earlier line"),
    ("graph g {\n  %x:f32[2 = Placeholder()\n}", r"line 2: expected ',' or '\]', got '= Placeholder"),
    ("graph g {\n  %x:f32[2] = Placeholder(shape=(2,)\n}", r"line 2: expected ',' or '\)'"),
    ("graph g {\n  %x:f32[2] = Placeholder(shape=(2,))\n", r"line 2: expected '\}' closing the graph"),
    ("graph g {\n  %x:f32[2] = Placeholder(shape=(2,))\n  %x:f32[2] = Neg(%x)\n}", r"line 3: %x is defined twice"),
    ("graph g {\n  %x:f32[2] = Reshape(shape=(-1, -1))\n}", r"line 2: bad attributes for Reshape: at most one -1"),
    ("graph g {\n  %x:f32[2] = Placeholder(shape=(2,), bogus=1)\n}", r"line 2: bad attributes for Placeholder"),
    ("graph g {\n  %x:f32[2] = Placeholder(shape=(2,)) @\n}", r"line 2: expected a device such as cpu:0"),
    ("graph g {\n  %x:f32[2] = Placeholder(dtype=f99)\n}", r"line 2: unknown attribute value 'f99'"),
    ("graph g {\n  %x:() = Print()\n  %y:f32[] = Neg(%x)\n}", r"line 3: %x has no outputs to read"),
    ("graph g(%q) {\n}", r"line 1: graph input %q is never defined"),
    ("graph g {\n  %x:f32[2] = Softmax(axis=1.5)\n}", r"line 2: bad attributes for Softmax: attribute axis=1.5 is not int"),
    ("graph g {\n}\n%x:f32[] = Neg()", r"line 3: expected nothing after the closing '\}'"),
    ("graph g {\n  %x:f32[] = Const(value=f32[]1.0)\n  %y:f32[] = Neg(%x) ^?x\n}", r"line 3: expected a value such as %x"),
    ("graph g {\n  %y:f32[] = Const(value=f32[]1.0) ^?%q\n}", r"line 2: value %q is not defined"),
])
def test_parse_errors_name_the_line_and_what_was_expected(text, message):
    with pytest.raises(InvalidArgumentError, match=message):
        parse_graph(text)


# -- order-only control edges -------------------------------------------------
def state_graph() -> Graph:
    """A read of v, then an Assign (ordered after the read only if it runs), then a read after it."""
    g = Graph("state")
    t = TensorType(F32, (2,))
    read = g.add(O.Variable("v", ConstValue(np.ones(2, np.float32))), names=["v"])
    c = g.add(O.Const(ConstValue(np.full(2, 5.0, np.float32))), names=["c"])
    upd = g.add(O.Assign("v", t), [(c, 0)], names=["v_set"])
    g.add_control(read, upd, order_only=True)
    again = g.add(O.Variable("v", ConstValue(np.ones(2, np.float32))), names=["v"])
    g.add_control(upd, again)
    g.outputs = [(read, 0), (upd, 0), (again, 0)]
    return g


STATE_TEXT = """\
graph state {
  %v:f32[2] = Variable(var_name="v", initial=f32[2][1.0, 1.0])
  %c:f32[2] = Const(value=f32[2][5.0, 5.0])
  %v_set:f32[2] = Assign(%c, var_name="v", var_type=f32[2]) ^?%v
  %v~2:f32[2] = Variable(var_name="v", initial=f32[2][1.0, 1.0]) ^%v_set
  return %v, %v_set, %v~2
}"""


def test_order_only_edges_print_parse_and_compare():
    g = state_graph()
    g.verify()
    assert str(g) == STATE_TEXT
    back = parse_graph(STATE_TEXT)
    assert back == g and str(back) == STATE_TEXT
    assert back.control_edges(2) == [(0, True)] and back.order_only_inputs(3) == []
    assert parse_graph(STATE_TEXT.replace("^?%v", "^%v")) != g        # a dependency is another graph
    assert parse_graph(STATE_TEXT.replace("^%v_set", "^?%v_set")) != g
    assert parse_graph(STATE_TEXT.replace(" ^?%v\n", "\n")) != g


def test_add_control_keeps_one_edge_and_a_dependency_absorbs_an_order_only_edge():
    g = state_graph()
    g.add_control(0, 2, order_only=True)          # already there
    assert g.control_edges(2) == [(0, True)]
    g.add_control(0, 2)                            # now a dependency
    assert g.control_edges(2) == [(0, False)]
    g.add_control(0, 2, order_only=True)          # a dependency stays a dependency
    assert g.control_edges(2) == [(0, False)] and g.nx.number_of_edges(0, 2) == 1
    g.verify()


def test_dependency_view_drops_only_order_only_edges():
    g = state_graph()
    deps = g.dependency_view()
    assert (0, 2) not in deps.edges() and (2, 3) in deps.edges() and (1, 2) in deps.edges()
    assert set(g.nx.edges()) - set(deps.edges()) == {(0, 2)}


def test_verify_rejects_malformed_control_edges():
    g = state_graph()
    g.nx.add_edge(0, 2, src_out=None, dst_in=None, control=True, order_only=False)
    with pytest.raises(InvalidArgumentError, match=r"node 2 \(Assign 'v_set'\): more than one control edge from node 0"):
        g.verify()
    g = state_graph()
    for _, _, d in g.nx.in_edges(2, data=True):
        if not d["control"]:
            d["order_only"] = True
    with pytest.raises(InvalidArgumentError, match=r"node 2 .*data edge from node 1 is marked order-only"):
        g.verify()
    g = state_graph()
    g.add_control(3, 0, order_only=True)          # order-only edges order: a loop is a cycle
    with pytest.raises(InvalidArgumentError, match="has a cycle"):
        g.verify()


def test_order_only_edges_round_trip_through_json_and_show_dotted_in_dot():
    g = state_graph()
    text = graph_to_json(g)
    nodes = json.loads(text)["nodes"]
    assert nodes[2]["control"] == [0] and nodes[2]["order_only"] == [0]
    assert nodes[3]["control"] == [2] and "order_only" not in nodes[3]   # absent when empty
    back = graph_from_json(text)
    assert_identical(g, back) and graph_to_json(back) == text
    doc = json.loads(text)
    doc["nodes"][2]["order_only"] = [1]
    with pytest.raises(InvalidArgumentError, match=r"nodes\[2\]\.order_only\[0\]: expected one of the control ids \[0\]"):
        graph_from_json(json.dumps(doc))
    dot = to_dot(g)
    check_dot_syntax(dot)
    assert '"0" -> "2" [style=dotted, arrowhead=odot];' in dot
    assert '"2" -> "3" [style=dashed, arrowhead=odot];' in dot


# -- JSON -------------------------------------------------------------------
def same_value(a, b) -> bool:
    """Equal and of the same type all the way down (arrays bit for bit)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, ConstValue):
        return a.array.dtype == b.array.dtype and a.array.shape == b.array.shape and (
            a.array.tolist() == b.array.tolist() if a.array.dtype == object
            else a.array.tobytes() == b.array.tobytes())
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, O.Op):
        return same_value(a.attrs(), b.attrs())
    if isinstance(a, float) and np.isnan(a):
        return np.isnan(b)
    return a == b


def assert_identical(g: Graph, h: Graph) -> None:
    """Not just equal: the same ids, meta, attribute types and constant bits."""
    assert g == h
    assert (g.name, g.inputs, g.outputs, g.targets, g._next_id) == (h.name, h.inputs, h.outputs, h.targets, h._next_id)
    assert sorted(g.nx.nodes) == sorted(h.nx.nodes)
    for n in g.nx:
        assert same_value(g.op(n), h.op(n)), n
        assert (g.names(n), g.device(n), g.types(n)) == (h.names(n), h.device(n), h.types(n))
        assert (g.inputs_of(n), g.control_edges(n)) == (h.inputs_of(n), h.control_edges(n))
        assert same_value(g.meta(n), h.meta(n)), n


def exotic_graph() -> Graph:
    """Every kind of attribute, odd ids, meta and bit patterns JSON must keep."""
    g = fused_graph()
    nan_payload = np.array([0x7FC00001, 0x80000000, 0x7F800000], dtype=np.uint32).view(np.float32)
    consts = [nan_payload, np.array([-0.0, 1e-310, np.inf], np.float64), np.array([[1, -2]], np.int32),
              np.array(2**62, np.int64), np.array([True, False]), np.array("s", dtype=object),
              np.arange(100, dtype=np.float32).reshape(10, 10) / 7]
    nodes = [g.add(O.Const(ConstValue(c))) for c in consts]
    v = g.add(O.Variable("v", ConstValue(np.ones(3, np.float32)), container="c"), names=["v"])
    t = TensorType(np.float32, (3,))
    upd = g.add(O.AssignAdd("v", t, "c", initial=ConstValue(np.ones(3, np.float32))), [(nodes[0], 0)])
    g.add_control(v, upd)
    g.add_control(nodes[1], upd, order_only=True)
    r = g.add(O.ReduceMean(axes=(np.int64(-1),), keepdims=False), [(nodes[2], 0)], device="cpu:3")
    g.remove(nodes[4])  # leaves a hole in the ids
    g.meta(r).update({"placement": "pinned", "note": (1, 2.5, None, [True]), "nan": float("nan"),
                      "nested": {"k": (np.float32(1.5), "s")}, "dtype": np.dtype(np.int32)})
    g.targets = [upd]
    return g


def test_json_round_trip_is_exact():
    g = exotic_graph()
    text = graph_to_json(g)
    assert json.loads(text)["format"] == "netjit-ir" and json.loads(text)["version"] == 1
    back = graph_from_json(text)
    assert_identical(g, back)
    assert graph_to_json(back) == text


def test_save_graph_puts_large_constants_in_a_side_npz(tmp_path):
    g = exotic_graph()
    path = save_graph(g, tmp_path / "g")
    assert path == str(tmp_path / "g.json")
    doc = json.loads((tmp_path / "g.json").read_text())
    npz_refs = [n["op"]["attrs"]["value"]["const"]["npz"] for n in doc["nodes"]
                if "npz" in json.dumps(n)]
    assert len(npz_refs) == 1  # only the 100-element constant; small ones stay inline
    with np.load(tmp_path / "g.npz", allow_pickle=False) as npz:
        assert npz.files == npz_refs
    assert_identical(g, load_graph(tmp_path / "g.json"))


def test_save_graph_without_large_constants_writes_no_npz(tmp_path):
    save_graph(small_graph(), tmp_path / "s.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]
    assert_identical(small_graph(), load_graph(tmp_path / "s.json"))


def _corrupt(doc, where):
    """Apply a corruption given as (path list, new value) to the JSON document."""
    path, value = where
    obj = doc
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


@pytest.mark.parametrize("corruption, location", [
    ((["nodes", 5, "op", "attrs", "axis"], "one"), r"nodes\[5\]\.op\.attrs\.axis: .*axis='one' is not int"),
    ((["nodes", 2, "op", "attrs", "shape"], {"tuple": [-1, -1]}), r"nodes\[2\]\.op\.attrs\.shape: .*at most one -1"),
    ((["nodes", 3, "op", "name"], "Relux"), r"nodes\[3\]\.op\.name: unknown op 'Relux'"),
    ((["nodes", 0, "types", 0, "dtype"], "c64"), r"nodes\[0\]\.types\[0\]\.dtype: unknown dtype 'c64'"),
    ((["nodes", 0, "types", 0, "shape"], [None, -3]), r"nodes\[0\]\.types\[0\]\.shape\[1\]: expected a dim"),
    ((["nodes", 2, "inputs", 0], [77, 0]), r"nodes\[2\]\.inputs\[0\]\[0\]: expected the id of an earlier node"),
    ((["nodes", 1, "op", "attrs", "value"], {"weird": 1}), r"nodes\[1\]\.op\.attrs\.value: expected a value or a one-key"),
    ((["nodes", 1, "op", "attrs", "value", "const", "base64"], "!!"), r"nodes\[1\]\.op\.attrs\.value\.const: bad constant data"),
    ((["outputs", 0], [4, 3]), r"outputs\[0\]\[1\]: node 4 has no output 3"),
    ((["nodes", 4, "names"], "y"), r"nodes\[4\]\.names: expected a list"),
    ((["version"], 7), r"\$: expected format 'netjit-ir' version 1"),
])
def test_malformed_json_names_the_file_and_the_location(tmp_path, corruption, location):
    g = small_graph()
    g.nx.nodes[2]["op"] = O.Reshape((0, -1)) if location and "shape" in location else g.op(2)
    path = tmp_path / "bad.json"
    doc = json.loads(graph_to_json(g))
    _corrupt(doc, corruption)
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidArgumentError, match=re.escape(str(path)) + ": " + location):
        load_graph(path)


def test_json_errors_for_unreadable_files(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"cannot read IR file .*missing\.json"):
        load_graph(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(InvalidArgumentError, match=r"x\.json: not JSON"):
        load_graph(tmp_path / "x.json")
    for depth in (900, 100_000):  # too deep for the decoder, too deep for json itself
        deep = graph_to_json(small_graph()).replace('"meta": {}', '"meta": {"d": ' + "[" * depth + "]" * depth + "}", 1)
        with pytest.raises(InvalidArgumentError, match="nested too deeply"):
            graph_from_json(deep)
    g = exotic_graph()
    text = graph_to_json(g, npz_path=str(tmp_path / "side.npz"))
    with pytest.raises(InvalidArgumentError, match=r"const\.npz: constant 'c[0-9a-f]+' lives in a side \.npz"):
        graph_from_json(text)
    assert_identical(g, graph_from_json(text, str(tmp_path / "side.npz")))


FIXTURES = __import__("pathlib").Path(__file__).parents[2] / "fixtures"


def test_version_1_file_loads_and_is_written_the_same(tmp_path):
    """tests/fixtures/ir_v1.{json,npz} was written by the serialize.py before the shared codec."""
    g = load_graph(FIXTURES / "ir_v1.json")
    assert_identical(exotic_graph(), g)
    save_graph(g, tmp_path / "again")
    assert (tmp_path / "again.json").read_text() == (FIXTURES / "ir_v1.json").read_text()
    with np.load(tmp_path / "again.npz") as new, np.load(FIXTURES / "ir_v1.npz") as old:
        assert new.files == old.files and all(new[k].tobytes() == old[k].tobytes() for k in old.files)


@pytest.mark.parametrize("corruption, location", [   # all accepted before IR files had net files' checks
    ((["nodes", 1, "op", "attrs", "value", "const", "evil"], 1), r"nodes\[1\]\.op\.attrs\.value\.const\.evil: unknown field"),
    ((["nodes", 1, "op", "attrs", "value", "const"], {"dtype": "str", "shape": [2], "strings": [1, {}]}),
     r"nodes\[1\]\.op\.attrs\.value\.const\.strings\[0\]: expected a str value"),
    ((["nodes", 1, "evil"], 1), r"nodes\[1\]\.evil: unknown field"),
    ((["evil"], 1), r"\$\.evil: unknown field"),
    ((["nodes", 5, "meta"], {"n": {"np": "i32", "value": 1.5}}), r"nodes\[5\]\.meta\.n\.value: expected a i32 value"),
    ((["nodes", 5, "meta"], {"d": json.loads("[" * 40 + "]" * 40)}), r"nodes\[5\]\.meta\.d(\[0\])+: values nested too deeply"),
    ((["nodes", 5, "op", "attrs", "nope"], 1), r"nodes\[5\]\.op\.attrs\.nope: Split has no attribute 'nope'"),
    ((["nodes", 5, "op", "attrs", "num"], True), r"nodes\[5\]\.op\.attrs\.num: .*num=True is not int"),
])
def test_ir_files_get_the_checks_of_saved_nets(tmp_path, corruption, location):
    path = tmp_path / "bad.json"
    doc = json.loads(graph_to_json(small_graph()))
    _corrupt(doc, corruption)
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidArgumentError, match=re.escape(str(path)) + ": " + location):
        load_graph(path)


def test_ir_files_have_a_load_budget_and_no_nan_literals(tmp_path, monkeypatch):
    save_graph(exotic_graph(), tmp_path / "g")
    monkeypatch.setenv("NETJIT_MAX_LOAD_BYTES", "300")
    with pytest.raises(InvalidArgumentError, match=r"g\.json: nodes\[9\]\.op\.attrs\.value\.const\.shape: "
                                                   r".*NETJIT_MAX_LOAD_BYTES"):
        load_graph(tmp_path / "g.json")
    monkeypatch.delenv("NETJIT_MAX_LOAD_BYTES")
    text = graph_to_json(small_graph()).replace('"meta": {}', '"meta": {"x": NaN}', 1)
    with pytest.raises(InvalidArgumentError, match="not JSON.*NaN"):
        graph_from_json(text)


def test_ir_side_file_is_checked_before_reading(tmp_path):
    import zipfile
    save_graph(exotic_graph(), tmp_path / "g")
    key = np.load(tmp_path / "g.npz").files[0]
    with zipfile.ZipFile(tmp_path / "g.npz", "w") as zf, zf.open(f"{key}.npy", "w") as fh:
        np.lib.format.write_array(fh, np.array([print], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidArgumentError, match=rf"nodes\[9\]\.op\.attrs\.value\.const\.npz: "
                                                   rf"array '{key}' of g\.npz is object\[1\]"):
        load_graph(tmp_path / "g.json")


def test_unsaveable_attribute_names_the_graph_and_the_location():
    g = Graph("host")
    from netjit.compiler.ops.python_op import PyFunc
    g.add(O.Python(PyFunc(print), 0))
    with pytest.raises(InvalidArgumentError, match=r"cannot save graph 'host': attribute nodes\[0\]\.op\.attrs\.func "
                                                   r"holds a PyFunc"):
        graph_to_json(g)


# -- DOT --------------------------------------------------------------------
_DOT_TOKEN = re.compile(r'\s+|"(?:[^"\\]|\\.)*"|->|[{}\[\];=,]|[A-Za-z_][A-Za-z0-9_]*')


def check_dot_syntax(text: str) -> list[str]:
    """A small DOT validator: every token is a quoted id, keyword, arrow or
    punctuation; braces and brackets balance; statements end with ';'."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _DOT_TOKEN.match(text, pos)
        assert m, f"bad DOT at {text[pos:pos + 30]!r}"
        if not m.group(0).isspace():
            tokens.append(m.group(0))
        pos = m.end()
    assert tokens[:2] == ["digraph", tokens[1]] and tokens[1].startswith('"') and tokens[2] == "{"
    depth = {"{": 0, "[": 0}
    for tok in tokens:
        if tok in "{[":
            depth[tok] += 1
        elif tok in "}]":
            depth["{" if tok == "}" else "["] -= 1
            assert min(depth.values()) >= 0
        elif tok[0].isalpha():
            assert tok in {"digraph", "subgraph", "node", "rankdir", "TB", "label", "fillcolor", "shape",
                           "style", "fontname", "arrowhead", "box", "plaintext", "solid", "dashed", "dotted",
                           "odot"}, tok
    assert depth == {"{": 0, "[": 0} and tokens[-1] == "}"
    return tokens


def test_dot_export_is_valid_and_shows_devices_ports_and_control_edges():
    g = small_graph()
    text = to_dot(g)
    check_dot_syntax(text)
    assert '"2" -> "6" [style=dashed, arrowhead=odot];' in text  # control edge
    assert '"3" -> "4" [label="0->0"];' in text and '"3" -> "4" [label="0->1"];' in text  # Add(y, y)
    assert '"5" -> "6" [label="1->0"];' in text  # from output 1 of a two-output node
    assert '"1" -> "2";' in text  # unambiguous: no label
    assert f'"2" [label="MatMul\\n%2: f32[?,2]", fillcolor="{PALETTE[0]}"];' in text
    assert f'fillcolor="{PALETTE[1]}"' in text and 'label="cpu:1";' in text
    assert 'subgraph "cluster_' in text and "subgraph" not in to_dot(g, clusters=False)
    assert to_dot(g) == text  # deterministic


def test_dot_shows_fused_expressions_and_quotes_odd_names():
    text = to_dot(fused_graph())
    check_dot_syntax(text)
    assert "t0 = Mul(in0, in1)\\nt1 = Tanh(t0)\\nt2 = Cast(dtype=f64)(t1) -> t2, t0" in text
    assert '%\\"7\\": str[2]' in text and 'label="weird dev"' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_graphviz_accepts_the_dot_output():
    for g in (small_graph(), fused_graph(), exotic_graph()):
        for clusters in (True, False):
            subprocess.run(["dot", "-Tsvg", "-o", "/dev/null"], input=to_dot(g, clusters).encode(),
                           check=True, timeout=60)


# -- random graphs ----------------------------------------------------------
@given(random_graph(devices=("cpu:0", "cpu:1")))
def test_random_graphs_verify_and_round_trip_through_text_and_json(graph_and_feeds):
    g, feeds = graph_and_feeds
    g.verify()
    text = str(g)
    back = parse_graph(text, constants_of(g))
    assert back == g and str(back) == text
    back.verify()
    assert_identical(g, graph_from_json(graph_to_json(g)))
    check_dot_syntax(to_dot(g))
    for got, want in zip(evaluate(back, feeds), evaluate(g, feeds)):
        np.testing.assert_array_equal(got, want)


@given(random_graph(devices=("cpu:0", "cpu:1")), st.data())
def test_random_graphs_with_both_kinds_of_control_edges_round_trip(graph_and_feeds, data):
    g, _ = graph_and_feeds
    order = g.nodes()
    for _ in range(data.draw(st.integers(1, 4)) if len(order) > 1 else 0):
        i, j = sorted(data.draw(st.lists(st.integers(0, len(order) - 1), min_size=2, max_size=2, unique=True)))
        g.add_control(order[i], order[j], order_only=data.draw(st.booleans()))
    g.verify()
    text = str(g)
    back = parse_graph(text, constants_of(g))
    assert back == g and str(back) == text
    assert_identical(g, graph_from_json(graph_to_json(g)))
    check_dot_syntax(to_dot(g))
