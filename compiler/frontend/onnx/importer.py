"""ONNX models in: a ModelProto (or a file) becomes a netjit ``Net``.

    graph input (not an initializer) -> Placeholder, named as in the model,
                                        symbolic or unknown dims -> None
    initializer / Constant node      -> Const (and a known constant value);
                                        a graph input that is also an
                                        initializer (ONNX IR < 4 lists them
                                        all) is that Const, not fed
    node                             -> the ops its converter emits
                                        (``converters.CONVERTERS``), outputs
                                        keeping their ONNX names
    graph output                     -> the net's external outputs

Nodes whose inputs are all known constants are evaluated at import with the
ops' reference implementations (``NodeContext.emit``), so shape arithmetic
(``Shape -> Gather -> Concat -> Reshape``) folds and compiled code sees
static shapes. Anything unsupported raises UnimplementedError at load time,
naming the node, its op type and what is unsupported.

Opsets ``MIN_OPSET`` (7) to ``onnx.defs.onnx_opset_version()`` of the default
domain are read; a converter row says from which opset its meaning holds.
Other domains (``ai.onnx.ml``, ``ai.onnx.preview.training``, ...) are read
where converters are registered for them, each at the version the model's
``opset_import`` gives for it. Declared element
types (graph outputs, value infos) are checked against what the converters
produced, so a converter that gets a dtype wrong fails at load, by name.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import onnx

from netjit.errors import InvalidArgumentError, UnimplementedError

from ...ops import TensorType
from ..net import Net
from .converters import DEFAULT_DOMAINS, DOMAIN_CONVERTERS, NodeContext, converter_for, domain_key
from .proto import Budget, attribute_values, tensor_value, value_type

#: The oldest opset of the default domain netjit reads.
MIN_OPSET = 7


def import_model(model, name: Optional[str] = None, base_dir: Optional[str] = None) -> Net:
    """The net of an ONNX ``ModelProto`` (the loader checks it with ``onnx.checker`` first).

    ``base_dir`` is the model's folder, where external data may be read; None
    for a model given in memory.
    """
    opsets = model_opsets(model)
    # the default domain's opset is checked (and required) unless no node is of that domain
    opset = default_opset(model) if "" in opsets or any(domain_key(n.domain) == "" for n in model.graph.node) else 0
    graph, budget = model.graph, Budget()
    net = Net(name or graph.name or "onnx_model")
    consts: dict[str, np.ndarray] = {}
    for t in graph.initializer:
        value = tensor_value(t, f"initializer {t.name!r}", base_dir, budget)
        NodeContext(net, None, opset, consts, {}).set_const(t.name, value)
    for name_, t in input_types(model).items():
        net.Placeholder(name_, t.dtype, t.shape)
    for node in graph.node:
        convert_node(net, node, opsets, consts, base_dir, budget)
    outputs = [o.name for o in graph.output]
    for blob in outputs:
        if not net.has_blob(blob):
            raise InvalidArgumentError(f"ONNX graph output {blob!r} is produced by no node")
    _check_declared_types(net, [*graph.output, *graph.value_info])
    net.AddExternalOutput(*outputs)
    return net


def default_opset(model) -> int:
    """The model's opset of the default ONNX domain (UnimplementedError outside 7 ... current)."""
    for imp in model.opset_import:
        if imp.domain in DEFAULT_DOMAINS:
            version, newest = int(imp.version), onnx.defs.onnx_opset_version()
            if not MIN_OPSET <= version <= newest:
                raise UnimplementedError(f"the ONNX model uses opset {version}; netjit reads opsets "
                                         f"{MIN_OPSET} to {newest}")
            return version
    raise InvalidArgumentError("the ONNX model imports no opset of the default domain")


def model_opsets(model) -> dict[str, int]:
    """The model's ``opset_import`` as domain -> version ("" for the default domain)."""
    return {domain_key(imp.domain): int(imp.version) for imp in model.opset_import}


def node_converter(node, opsets: dict[str, int]):
    """The converter of ``node`` at the opset the model imports of its domain, or None."""
    domain = domain_key(node.domain)
    if domain not in opsets:
        return None
    return converter_for(node.op_type, opsets[domain], domain)


def _check_declared_types(net: Net, infos) -> None:
    """A value whose declared element type differs from what was built is a converter bug."""
    for vi in infos:
        if not net.has_blob(vi.name) or not vi.type.HasField("tensor_type") or not vi.type.tensor_type.elem_type:
            continue
        built = net.blob_type(vi.name)
        declared = value_type(vi, f"ONNX value {vi.name!r}")
        if built is not None and built.dtype != declared.dtype:
            raise UnimplementedError(f"ONNX value {vi.name!r}: declared {declared}, the converters "
                                     f"built {built}")


def convert_node(net: Net, node, opsets: dict[str, int], consts: dict, base_dir: Optional[str],
             budget: Budget) -> None:
    where = f"ONNX node {node.name or (node.output[0] if node.output else node.op_type)!r} ({node.op_type})"
    domain = domain_key(node.domain)
    if domain not in DOMAIN_CONVERTERS:
        raise UnimplementedError(f"{where}: domain {node.domain!r} is not supported")
    if domain not in opsets:
        raise InvalidArgumentError(f"{where}: the model imports no opset of domain {node.domain!r}")
    opset = opsets[domain]
    fn = converter_for(node.op_type, opset, domain)
    if fn is None:
        in_domain = f" of domain {node.domain!r}" if domain else ""
        raise UnimplementedError(f"{where}: op type {node.op_type!r}{in_domain} is not supported at opset {opset}")
    ctx = NodeContext(net, node, opset, consts, attribute_values(node, where, base_dir, budget))
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
