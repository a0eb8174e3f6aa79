"""ONNX models out: a netjit ``Net`` (fetches given feeds) becomes an ``onnx.ModelProto``.

    feed / fed Placeholder   -> graph input, typed from the feed or the Placeholder
    Const                    -> initializer
    op                       -> the ONNX nodes of its row in ``EXPORTERS``
    fetch                    -> graph output named as the blob

The net is an ordered program over named blobs, ONNX a graph in SSA form: the
last write of a blob keeps its name, earlier writes become ``blob~k``. Only
the ops the fetches need are exported. ``EXPORTERS`` is one table keyed by
op class; op families add their rows with ``@exports(OpClass)`` in
``export_*.py`` modules. An op without a row raises UnimplementedError
naming the op and its blob. The result passes ``onnx.checker``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np
import onnx
from onnx import helper, numpy_helper

from netjit.errors import InvalidArgumentError, UnimplementedError

from ... import ops as O
from ...ops import TensorType

#: The oldest opset the exporter writes; the default is onnx's current one.
MIN_EXPORT_OPSET = 13

Exporter = Callable[["ExportContext", Any, list, list], None]
#: op class -> fn(ctx, op, inputs, outputs): writes the op's ONNX nodes.
EXPORTERS: dict[type, Exporter] = {}


def exports(*op_classes: type) -> Callable[[Exporter], Exporter]:
    """Register ``fn`` as the exporter of ``op_classes``."""
    def register(fn: Exporter) -> Exporter:
        for cls in op_classes:
            if cls in EXPORTERS:
                raise ValueError(f"{cls.__name__} has two ONNX exporters")
            EXPORTERS[cls] = fn
        return fn
    return register


@dataclasses.dataclass(frozen=True)
class Port:
    """One value in the exported graph: its ONNX name and netjit type."""

    name: str
    type: TensorType


@dataclasses.dataclass
class ExportContext:
    """What an exporter writes into: nodes, initializers, fresh names, the opset."""

    opset: int
    nodes: list = dataclasses.field(default_factory=list)
    initializers: list = dataclasses.field(default_factory=list)
    where: str = ""
    _count: int = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}~t{self._count}"

    def node(self, op_type: str, inputs: Sequence[str], outputs: Optional[Sequence[str]] = None,
             **attrs) -> list[str]:
        """Add an ONNX node; returns its output names (one fresh name by default)."""
        outs = list(outputs) if outputs is not None else [self.fresh(op_type)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=outs[0], **attrs))
        return outs

    def const(self, value, hint: str = "const") -> str:
        """An initializer holding ``value``; returns its name."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def cast(self, port: Port, dtype) -> str:
        """``port`` as ``dtype`` (a Cast node only when the dtypes differ)."""
        dtype = np.dtype(dtype)
        if port.type.dtype == dtype:
            return port.name
        return self.node("Cast", [port.name], to=helper.np_dtype_to_tensor_dtype(dtype))[0]

    def unsupported(self, what: str) -> UnimplementedError:
        return UnimplementedError(f"ONNX export: {self.where}: {what}")


def export_net(net, fetches, feeds=(), opset: Optional[int] = None, name: Optional[str] = None) -> onnx.ModelProto:
    """The ONNX model computing ``fetches`` of ``net`` from ``feeds``.

    ``feeds`` is a list of blob names (typed by the Placeholders or the net's
    build-time types) or a dict name -> array or TensorType. Raises
    UnimplementedError for an op without an ONNX row, InvalidArgumentError for
    a fetch the feeds cannot compute.
    """
    opset = onnx.defs.onnx_opset_version() if opset is None else int(opset)
    if not MIN_EXPORT_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise UnimplementedError(f"ONNX export writes opsets {MIN_EXPORT_OPSET} to "
                                 f"{onnx.defs.onnx_opset_version()}, not {opset}")
    fetches = [str(f) for f in ([fetches] if isinstance(fetches, str) else fetches)]
    feed_types = _feed_types(net, feeds)
    ctx = ExportContext(opset)
    ops = [d for d in net.ops if not any(o in feed_types for o in d.outputs)]
    ports = _ssa_ports(ops, feed_types, fetches)
    needed = _needed(ops, ports, fetches, net.name)
    for i in needed:
        d = ops[i]
        ctx.where = f"{d.type} {', '.join(map(repr, d.outputs)) or '()'} in net {net.name!r}"
        fn = EXPORTERS.get(type(d.op))
        if fn is None:
            raise ctx.unsupported(f"op {d.type} has no ONNX equivalent")
        fn(ctx, d.op, [ports[("in", i, k)] for k in range(len(d.inputs))],
           [ports[("out", i, k)] for k in range(len(d.outputs))])
    inputs = [helper.make_tensor_value_info(b, _elem(t), t.shape) for b, t in feed_types.items()]
    outputs = [helper.make_tensor_value_info(f, _elem(ports[("fetch", f)].type), ports[("fetch", f)].type.shape)
               for f in fetches]
    for f in fetches:
        if ports[("fetch", f)].name != f:        # a fetched feed, or a blob fetched twice
            ctx.node("Identity", [ports[("fetch", f)].name], [f])
    graph = helper.make_graph(ctx.nodes, name or net.name, inputs, outputs, ctx.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="netjit")
    onnx.checker.check_model(model)
    return model


def _feed_types(net, feeds) -> dict[str, TensorType]:
    placeholders = {d.outputs[0]: TensorType(d.op.dtype, d.op.shape) for d in net.ops
                    if isinstance(d.op, O.Placeholder)}
    out = {}
    items = feeds.items() if isinstance(feeds, Mapping) else ((str(f), None) for f in feeds)
    for blob, given in items:
        blob = str(blob)
        if isinstance(given, TensorType):
            out[blob] = given
        elif given is not None:
            out[blob] = TensorType.of(given)
        elif blob in placeholders or net.blob_type(blob) is not None:
            out[blob] = placeholders.get(blob) or net.blob_type(blob)
        else:
            raise InvalidArgumentError(f"ONNX export of net {net.name!r}: the type of feed {blob!r} is "
                                       "unknown; pass feeds as a dict name -> array or TensorType")
    return out


def _ssa_ports(ops, feed_types: dict, fetches: list) -> dict:
    """Ports of every op's inputs and outputs, and of the fetches: the last write of a
    blob keeps its name, earlier ones get ``~k``."""
    last = {o: i for i, d in enumerate(ops) for o in d.outputs}
    current = {b: Port(b, t) for b, t in feed_types.items()}
    ports: dict = {}
    writes: dict[str, int] = {}
    for i, d in enumerate(ops):
        ins = [current.get(b) for b in d.inputs]
        for k, p in enumerate(ins):
            ports[("in", i, k)] = p
        types = [None] * len(d.outputs)
        if all(p is not None for p in ins) and d.op is not None:
            try:
                types = list(d.op.infer(*(p.type for p in ins)))
            except O.InferError:
                pass
        for k, (blob, t) in enumerate(zip(d.outputs, types)):
            writes[blob] = writes.get(blob, 0) + 1
            onnx_name = blob if last[blob] == i else f"{blob}~{writes[blob]}"
            ports[("out", i, k)] = current[blob] = Port(onnx_name, t) if t is not None else None
    for f in fetches:
        ports[("fetch", f)] = current.get(f)
    return ports


def _needed(ops, ports: dict, fetches: list, net_name: str) -> list[int]:
    """Indices of the ops the fetches need, in program order; errors for what cannot be computed."""
    producer = {p.name: i for (kind, i, *_), p in ports.items() if kind == "out" and p is not None}
    for f in fetches:
        if ports.get(("fetch", f)) is None:
            raise InvalidArgumentError(f"ONNX export of net {net_name!r}: fetch {f!r} cannot be computed "
                                       "from the feeds (unknown blob, unfed placeholder or untyped input)")
    todo = [producer[ports[("fetch", f)].name] for f in fetches if ports[("fetch", f)].name in producer]
    seen: set[int] = set()
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        for k in range(len(ops[i].inputs)):
            p = ports[("in", i, k)]
            if p.name in producer:
                todo.append(producer[p.name])
    return sorted(seen)


def _elem(t: TensorType) -> int:
    return helper.np_dtype_to_tensor_dtype(t.dtype)
