"""The ONNX converter registry: one row per ONNX op (and opset range) that emits netjit ops.

A converter is a function ``fn(ctx: NodeContext) -> None`` that writes every
output of ``ctx.node`` into ``ctx.net``, through ``ctx.emit`` (or records an
output as a known constant with ``ctx.set_const``). It is registered with

    @onnx_op("Relu")                       # every opset
    def relu(ctx): ctx.emit(ops.Relu(), [ctx.input(0)])

    @onnx_op("Softmax", since=13)          # opsets 13 and later
    def softmax_13(ctx): ...

    @onnx_op("Adam", domain="ai.onnx.preview.training", since=1)   # another domain
    def adam(ctx): ...

The importer picks, for a node, the row with the greatest ``since`` that is
at most the model's opset of the node's domain. Converters live in modules by
op family (``convert_*.py``); importing ``netjit.compiler.frontend.onnx``
registers them all. Anything a converter cannot express exactly raises
``ctx.unsupported(what)`` (an UnimplementedError naming the node, its op
type and what is unsupported): never a silently different meaning.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional, Sequence

import numpy as np

from netjit.errors import UnimplementedError

from ...ops import Const, ConstValue, Op, TensorType
from ..net import Net

Converter = Callable[["NodeContext"], None]

#: The default ONNX domain: "" and its alias "ai.onnx".
DEFAULT_DOMAINS = ("", "ai.onnx")

#: ONNX op type -> [(since opset, converter)], sorted by ``since``: the default domain's rows.
CONVERTERS: dict[str, list[tuple[int, Converter]]] = {}
#: Domain ("" for the default one) -> op type -> rows as in ``CONVERTERS`` (which is ``[""]``).
DOMAIN_CONVERTERS: dict[str, dict[str, list[tuple[int, Converter]]]] = {"": CONVERTERS}

_MISSING = object()


def domain_key(domain: str) -> str:
    """The registry's name of ``domain``: "" for the default domain (also spelled "ai.onnx")."""
    return "" if domain in DEFAULT_DOMAINS else domain


def onnx_op(op_type: str, since: int = 1, domain: str = "") -> Callable[[Converter], Converter]:
    """Register ``fn`` as the converter of ``op_type`` of ``domain`` from that domain's opset ``since`` on."""
    def register(fn: Converter) -> Converter:
        rows = DOMAIN_CONVERTERS.setdefault(domain_key(domain), {}).setdefault(op_type, [])
        if any(s == since for s, _ in rows):
            where = f"{domain}." if domain_key(domain) else ""
            raise ValueError(f"ONNX op {where}{op_type!r} has two converters since opset {since}")
        rows.append((since, fn))
        rows.sort(key=lambda r: r[0])
        return fn
    return register


def converter_for(op_type: str, opset: int, domain: str = "") -> Optional[Converter]:
    """The converter of ``op_type`` of ``domain`` for a model importing ``opset`` of that domain, or None."""
    best = None
    for since, fn in DOMAIN_CONVERTERS.get(domain_key(domain), {}).get(op_type, ()):
        if since <= opset:
            best = fn
    return best


@dataclasses.dataclass
class NodeContext:
    """What a converter sees of one ONNX node, and how it writes into the net."""

    net: Net
    node: Any                       # onnx.NodeProto
    opset: int                      # the model's opset of this node's domain
    #: Known constant values by blob name (initializers, Constant nodes, folded values).
    consts: dict[str, np.ndarray]
    #: Decoded attributes of the node (name -> Python value; tensors as arrays).
    attrs: dict[str, Any]
    _temps: int = 0

    @property
    def name(self) -> str:
        return self.node.name or (self.node.output[0] if self.node.output else self.node.op_type)

    def attr(self, name: str, default: Any = _MISSING) -> Any:
        """Attribute ``name``; ``default`` when absent (UnimplementedError if required and absent)."""
        if name in self.attrs:
            return self.attrs[name]
        if default is _MISSING:
            raise self.unsupported(f"required attribute {name!r} is missing")
        return default

    def num_inputs(self) -> int:
        """The number of inputs given, trailing omitted optional inputs not counted."""
        ins = list(self.node.input)
        while ins and not ins[-1]:
            ins.pop()
        return len(ins)

    def input(self, i: int) -> Optional[str]:
        """Blob name of input ``i``; None when the optional input is omitted."""
        if i >= len(self.node.input) or not self.node.input[i]:
            return None
        return self.node.input[i]

    def inputs(self) -> list[Optional[str]]:
        return [self.input(i) for i in range(self.num_inputs())]

    def const(self, i: int) -> Optional[np.ndarray]:
        """The constant value of input ``i``, when the importer knows it (else None)."""
        blob = self.input(i)
        return None if blob is None else self.consts.get(blob)

    def type(self, i: int) -> Optional[TensorType]:
        """The static type of input ``i`` as the net inferred it (None if unknown)."""
        blob = self.input(i)
        return None if blob is None else self.net.blob_type(blob)

    def output(self, i: int = 0) -> Optional[str]:
        """Blob name of output ``i``; None when that optional output is not wanted."""
        if i >= len(self.node.output) or not self.node.output[i]:
            return None
        return self.node.output[i]

    def fresh(self, hint: str) -> str:
        """A new temporary blob name, unique in this net."""
        self._temps += 1
        return self.net.NextName(f"{self.name}/{hint}")

    def emit(self, op: Op, inputs: Sequence[str], outputs: Optional[Sequence[str]] = None) -> list[str]:
        """Add ``op`` over ``inputs`` to the net; returns its output blob names.

        ``outputs`` defaults to the node's outputs. Every input must name a
        blob the net has (a graph input, an initializer or an earlier output).
        When every input is a known constant the op is evaluated now with its
        reference implementation and its outputs become constants: shape
        arithmetic folds at import, so compiled code sees static shapes.
        """
        outs = list(self.node.output) if outputs is None else list(outputs)
        values = [self.consts.get(b) for b in inputs]
        if all(v is not None for v in values) and not op.stateful and not op.host:
            results = op.reference(*values)
            for blob, value in zip(outs, results):
                if blob:
                    self.set_const(blob, value)
            return outs
        self.net._add_op(op.name, list(inputs), outs, {}, op=op)
        return outs

    def set_const(self, blob: str, value: np.ndarray) -> str:
        """Make ``blob`` a constant of ``value`` (added to the net as a Const)."""
        value = np.asarray(value)
        self.consts[blob] = value
        self.net._add_op("Const", [], [blob], {}, op=Const(ConstValue(value)))
        return blob

    def unsupported(self, what: str) -> UnimplementedError:
        """The error for what this node asks that netjit cannot do exactly."""
        return UnimplementedError(f"ONNX node {self.name!r} ({self.node.op_type}, opset {self.opset}): {what}")
