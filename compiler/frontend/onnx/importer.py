"""ONNX models in: a ModelProto (or a file) becomes a netjit ``Net``.

    graph input (not an initializer) -> Placeholder, named as in the model,
                                        symbolic or unknown dims -> None
    initializer / Constant node      -> Const (and a known constant value)
    node                             -> the ops its converter emits
                                        (``converters.CONVERTERS``), outputs
                                        keeping their ONNX names
    graph output                     -> the net's external outputs

Nodes whose inputs are all known constants are evaluated at import with the
ops' reference implementations (``NodeContext.emit``), so shape arithmetic
(``Shape -> Gather -> Concat -> Reshape``) folds and compiled code sees
static shapes. Anything unsupported raises UnimplementedError at load time,
naming the node, its op type and what is unsupported.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from netjit.errors import InvalidArgumentError, UnimplementedError

from ...ops import TensorType
from ..net import Net
from .converters import NodeContext, converter_for
from .proto import attribute_values, tensor_value, value_type

#: ONNX domains netjit reads ("" and "ai.onnx" are the default domain).
DEFAULT_DOMAINS = ("", "ai.onnx")


def import_model(model, name: Optional[str] = None, base_dir: str = "") -> Net:
    """The net of an ONNX ``ModelProto`` (checked with ``onnx.checker`` first)."""
    opset = default_opset(model)
    graph = model.graph
    net = Net(name or graph.name or "onnx_model")
    consts: dict[str, np.ndarray] = {}
    initializers = {t.name for t in graph.initializer}
    for t in graph.initializer:
        value = tensor_value(t, where=f"initializer {t.name!r}", base_dir=base_dir)
        consts[t.name] = value
        NodeContext(net, None, opset, consts, {}).set_const(t.name, value)
    for vi in graph.input:
        if vi.name not in initializers:
            t = value_type(vi, where=f"graph input {vi.name!r}")
            net.Placeholder(vi.name, t.dtype, t.shape)
    for node in graph.node:
        _convert(net, node, opset, consts)
    outputs = [o.name for o in graph.output]
    for blob in outputs:
        if not net.has_blob(blob):
            raise InvalidArgumentError(f"ONNX graph output {blob!r} is produced by no node")
    net.AddExternalOutput(*outputs)
    return net


def default_opset(model) -> int:
    """The model's opset of the default ONNX domain."""
    for imp in model.opset_import:
        if imp.domain in DEFAULT_DOMAINS:
            return int(imp.version)
    raise InvalidArgumentError("the ONNX model imports no opset of the default domain")


def _convert(net: Net, node, opset: int, consts: dict) -> None:
    where = f"ONNX node {node.name or (node.output[0] if node.output else node.op_type)!r} ({node.op_type})"
    if node.domain not in DEFAULT_DOMAINS:
        raise UnimplementedError(f"{where}: domain {node.domain!r} is not supported")
    fn = converter_for(node.op_type, opset)
    if fn is None:
        raise UnimplementedError(f"{where}: op type {node.op_type!r} is not supported at opset {opset}")
    ctx = NodeContext(net, node, opset, consts, attribute_values(node, where))
    for i, blob in enumerate(ctx.inputs()):
        if blob is not None and not net.has_blob(blob):
            raise InvalidArgumentError(f"{where}: input {i} {blob!r} is produced by no earlier node")
    fn(ctx)
    for blob in node.output:
        if blob and not net.has_blob(blob):
            raise UnimplementedError(f"{where}: output {blob!r} was not produced by its converter")


def input_types(model) -> dict[str, TensorType]:
    """Declared types of the graph inputs that are not initializers, by name."""
    initializers = {t.name for t in model.graph.initializer}
    return {vi.name: value_type(vi, where=f"graph input {vi.name!r}")
            for vi in model.graph.input if vi.name not in initializers}
