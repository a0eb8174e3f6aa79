"""Loading ONNX models: what the importer accepts, and hostile files refused with clear errors."""
from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import netjit.onnx as njo
from netjit.compiler.frontend.onnx.importer import import_model
from netjit.errors import InvalidArgumentError, UnimplementedError


def _model(opset: int = 13, ir_version=None, init_as_input=False) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    w = numpy_helper.from_array(np.arange(3, dtype=np.float32), "w")
    inputs = [x] + ([helper.make_tensor_value_info("w", TensorProto.FLOAT, [3])] if init_as_input else [])
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")], "g", inputs, [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if ir_version is not None:
        model.ir_version = ir_version
    return model


def _external(tmp_path, location: str) -> onnx.ModelProto:
    model = _model()
    t = model.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", location
    return model


def test_symbolic_dims_are_dynamic_and_outputs_keep_their_names():
    net = njo.load(_model())
    assert net.blob_type("x").shape == (None, 3)
    assert [str(b) for b in net.external_outputs] == ["y"]


def test_initializers_listed_as_inputs_are_consts():
    net = njo.load(_model(opset=7, ir_version=3, init_as_input=True))
    assert [d.type for d in net.ops if "w" in d.outputs] == ["Const"]


@pytest.mark.parametrize("opset", [6, onnx.defs.onnx_opset_version() + 1])
def test_opsets_outside_the_range_are_refused(opset):
    with pytest.raises(UnimplementedError, match=f"opset {opset}; netjit reads opsets 7 to"):
        import_model(_model(opset))


def test_unsupported_op_names_node_and_op():
    model = _model()
    model.graph.node[0].op_type = "NoSuchOp"
    with pytest.raises(UnimplementedError, match=r"ONNX node 'add' \(NoSuchOp\).*not supported at opset 13"):
        import_model(model)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_file(tmp_path, cut):
    data = _model().SerializeToString()
    path = tmp_path / "m.onnx"
    path.write_bytes(data[:int(len(data) * cut)])
    with pytest.raises(InvalidArgumentError, match="m.onnx"):
        njo.load(path)


@pytest.mark.parametrize("source", ["/dev/null", "dir", "/nonexistent/m.onnx"])
def test_non_regular_or_missing_files(tmp_path, source):
    with pytest.raises(InvalidArgumentError, match="not a regular file|cannot read"):
        njo.load(tmp_path if source == "dir" else source)


@pytest.mark.parametrize("dims, what", [([3_000_000], "12 bytes of data for float32"),
                                        ([4], "12 bytes of data for float32\\[4\\]"),
                                        ([2**40, 2**40], "budget")])
def test_a_tensor_lying_about_its_size_is_refused_before_allocation(dims, what):
    model = _model()
    model.graph.initializer[0].dims[:] = dims
    with pytest.raises(InvalidArgumentError, match=f"initializer 'w'.*{what}"):
        import_model(model)       # past the checker: the importer's own check


def test_typed_field_count_is_checked():
    model = _model()
    t = model.graph.initializer[0]
    t.ClearField("raw_data")
    t.float_data[:] = [1.0, 2.0]
    with pytest.raises(InvalidArgumentError, match="2 values for float32\\[3\\]"):
        import_model(model)


def test_external_data_loads_from_the_models_folder(tmp_path):
    (tmp_path / "w.bin").write_bytes(np.array([5, 6, 7], np.float32).tobytes())
    onnx.save(_external(tmp_path, "w.bin"), tmp_path / "m.onnx")
    net = njo.load(tmp_path / "m.onnx")
    const = next(d for d in net.ops if d.outputs == ("w",))
    np.testing.assert_array_equal(const.op.value.array, [5, 6, 7])


@pytest.mark.parametrize("location", ["../w.bin", "/etc/passwd", "link", "short.bin"])
def test_external_data_cannot_escape_or_lie(tmp_path, location):
    (tmp_path / "short.bin").write_bytes(b"\0" * 8)
    os.symlink("/etc/passwd", tmp_path / "link")
    model = _external(tmp_path, location)
    with pytest.raises(InvalidArgumentError, match="initializer 'w'"):
        import_model(model, base_dir=str(tmp_path))      # the importer's own checks
    with pytest.raises(InvalidArgumentError, match="needs the model's folder"):
        import_model(model)                              # a model in memory has no folder
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(InvalidArgumentError):
        njo.load(tmp_path / "m.onnx")


def test_unsupported_dtype_is_named():
    model = _model()
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.BFLOAT16
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.BFLOAT16
    with pytest.raises((UnimplementedError, InvalidArgumentError), match="BFLOAT16|bfloat16|x"):
        njo.load(model)
