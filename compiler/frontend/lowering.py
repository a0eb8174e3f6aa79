"""Lowering: a net's ordered ops over named blobs become an SSA Graph.

Every write of a blob makes a new value; a later read sees the latest write.
Fed blobs become input nodes and every op writing them is dropped (a fed
blob's producer does not run). A blob that can only be computed from an unfed
placeholder or a blob nothing produces is recorded in ``missing`` with the
reason, instead of failing the whole lowering: only fetching it is an error.
Stateful ops on one variable keep their program order through control edges:
a write depends on the previous write and a read on the latest write, while a
read before a write is only ordered ahead of it (an order-only edge), so
fetching the write does not run the read. Host ops keep their order among
themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

from netjit.errors import InvalidArgumentError

from .. import ops as O
from ..ir import Graph, Value
from .net import VARIABLE_UPDATES, OpDef
from ..ops import InferError, TensorType


@dataclass
class Lowered:
    """The lowered graph and what lowering learned about the blobs."""

    graph: Graph
    #: The latest value of every blob that can be computed.
    blobs: dict[str, Value] = field(default_factory=dict)
    #: Blobs that cannot be computed, with the reason.
    missing: dict[str, str] = field(default_factory=dict)
    #: Declared placeholder types by blob name (fed or not).
    placeholders: dict[str, TensorType] = field(default_factory=dict)


@dataclass
class _VarState:
    key: tuple
    var_type: TensorType
    initial: O.ConstValue
    last_write: Optional[int] = None
    reads: list = field(default_factory=list)


def feed_type(value_type: TensorType) -> TensorType:
    """The type a fed non-placeholder blob gets: its dtype and rank, dims dynamic."""
    return TensorType(value_type.dtype, None if value_type.shape is None else (None,) * len(value_type.shape))


class _Lowerer:
    def __init__(self, name, feeds, inputs):
        self.g = Graph(name)
        self.out = Lowered(self.g)
        self.env: dict[str, Value] = {}
        self.feeds = dict(feeds)
        self.vars_by_value: dict[Value, _VarState] = {}
        self.vars_by_key: dict[tuple, _VarState] = {}
        self.last_host: Optional[int] = None
        for blob, t in list(self.feeds.items()) + list(inputs.items()):
            if blob not in self.env:
                n = self.g.add(O.Placeholder(t.dtype, t.shape), names=[blob], types=[t])
                self.g.inputs.append(n)
                self.env[blob] = (n, 0)

    def fail(self, d: OpDef, msg: str):
        return InvalidArgumentError(f"{d.type} {(d.outputs or d.inputs or ('',))[0]!r} in net "
                                    f"{self.g.name!r}: {msg}")

    def lower_op(self, d: OpDef) -> None:
        if any(o in self.feeds for o in d.outputs):
            if d.type == "Placeholder":
                self.out.placeholders[d.outputs[0]] = d.op.type
                self._refine_fed_placeholder(d)
            return
        if d.type == "Placeholder":
            self.out.placeholders[d.outputs[0]] = d.op.type
            self._poison(d, f"You must feed a value for placeholder {d.outputs[0]!r} ({d.op.type})")
            return
        for b in d.inputs:
            if b in self.out.missing and b not in self.env:
                return self._poison(d, self.out.missing[b])
            if b not in self.env:
                return self._poison(d, f"blob {b!r} is read by {d.type} {(d.outputs or ('',))[0]!r} in net "
                                       f"{self.g.name!r}, but nothing produces it and it is not fed")
        inputs = [self.env[b] for b in d.inputs]
        op, var = d.op, None
        if d.type in VARIABLE_UPDATES:
            op, var, inputs = self._resolve_update(d, inputs)
        try:
            n = self.g.add(op, inputs, names=list(d.outputs), device=d.device)
        except InferError as exc:
            desc = ", ".join(f"{b!r} is {self.g.type(v)}" for b, v in zip(d.inputs, inputs))
            raise self.fail(d, f"input {desc}: {exc}") from None
        self._order(n, op, var)
        for i, b in enumerate(d.outputs):
            self.env[b] = (n, i)
            self.out.missing.pop(b, None)
            if var is not None:
                self.vars_by_value[(n, i)] = var

    def _refine_fed_placeholder(self, d: OpDef) -> None:
        """A fed placeholder's input node takes the declared shape when it fits the feed.

        Declared without a shape, it takes the fed value's rank (dims dynamic):
        the code compiled for the signature is rank-specialised, and a feed of
        another rank is another signature.
        """
        blob = d.outputs[0]
        n = self.env[blob][0]
        declared, fed = d.op.type, self.g.type((n, 0))
        if declared.dtype != fed.dtype:
            raise InvalidArgumentError(
                f"Cannot feed value of dtype {fed.dtype} for placeholder {blob!r} in net "
                f"{self.g.name!r}, which has dtype {declared.dtype}")
        if declared.shape is not None and fed.shape is not None and len(declared.shape) != len(fed.shape):
            raise InvalidArgumentError(
                f"Cannot feed value of rank {len(fed.shape)} for placeholder {blob!r} in net "
                f"{self.g.name!r}, which has shape {declared}")
        refined = declared if declared.shape is not None else TensorType(declared.dtype, feed_type(fed).shape)
        self.g.nx.nodes[n]["types"] = (refined,)
        self.g.nx.nodes[n]["op"] = d.op if refined == declared else O.Placeholder(refined.dtype, refined.shape)

    def _poison(self, d: OpDef, reason: str) -> None:
        for b in d.outputs:
            self.env.pop(b, None)
            self.out.missing[b] = reason

    def _resolve_update(self, d, inputs):
        var = self.vars_by_value.get(inputs[0])
        if var is None:
            raise self.fail(d, f"input {d.inputs[0]!r} is not a variable (made by Variable, Assign or AssignAdd)")
        cls = VARIABLE_UPDATES[d.type]
        name, container = var.key[1], var.key[0]
        extra = {"initial": var.initial} if cls is O.AssignAdd else {}
        return cls(name, var.var_type, container, **extra), var, inputs[1:]

    def _order(self, n: int, op: O.Op, var: Optional[_VarState]) -> None:
        if isinstance(op, O.Variable):
            var = self.vars_by_key.setdefault(op.key, _VarState(op.key, op.initial.type, op.initial))
            if var.last_write is not None:
                self.g.add_control(var.last_write, n)
            var.reads.append(n)
            self.vars_by_value[(n, 0)] = var
        elif var is not None:  # Assign / AssignAdd
            # A read before the write only has to come first if it runs at all: fetching the
            # Assign must not run it (after reset() it would read an uninitialised variable).
            for read in var.reads:
                if read != n:
                    self.g.add_control(read, n, order_only=True)
            if var.last_write is not None:
                self.g.add_control(var.last_write, n)
            var.last_write, var.reads = n, []
        if op.host:
            if self.last_host is not None:
                self.g.add_control(self.last_host, n)
            self.last_host = n


def lower_net(ops: Sequence[OpDef], name: str = "graph", feeds: Mapping[str, TensorType] = (),
          inputs: Mapping[str, TensorType] = ()) -> Lowered:
    """Lower a program of OpDefs to SSA.

    ``feeds`` are blobs fed at run time (their writers are dropped); ``inputs``
    are external inputs with known types (e.g. from a workspace), read where
    no op of the program has written them yet.
    """
    low = _Lowerer(name, dict(feeds), dict(inputs))
    for d in ops:
        low.lower_op(d)
    low.out.blobs = dict(low.env)
    return low.out
