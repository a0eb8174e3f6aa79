"""ONNX inputs that are attributes of netjit ops (a Reshape's shape, a Slice's starts, ...).

    emit_with_params(ctx, Reshape(), [x], {"shape": 1})
        shape a known constant  -> Reshape(shape=(2, 3))(x)
        shape known at run time -> FromInputs(Reshape(), ("shape",), rank)(x, shape)

Either every parameter is a known constant and the op is static, or all of
them are bound at run time: binding some now and some later would validate
a half-filled op.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

from netjit.errors import InvalidArgumentError

from ...ops import InferError, Op
from ...ops.from_inputs import FromInputs, field_value
from .converters import NodeContext


def rank_of(ctx: NodeContext, i: int) -> Optional[int]:
    """The static rank of input ``i``, or None."""
    t = ctx.type(i)
    return None if t is None else t.rank


def length_of(ctx: NodeContext, i: int) -> Optional[int]:
    """The static length of the 1-D input ``i`` (its value's count), or None."""
    value = ctx.const(i)
    if value is not None:
        return int(value.size)
    t = ctx.type(i)
    if t is None or t.shape is None or len(t.shape) != 1:
        return None
    return t.shape[0]


def node_outputs(ctx: NodeContext, n: int) -> list[str]:
    """The node's ``n`` output names, with fresh names for optional outputs it does not want."""
    return [ctx.output(i) or ctx.fresh(f"unused{i}") for i in range(n)]


def emit_with_params(ctx: NodeContext, op: Op, data: Sequence[str], params: dict[str, int],
                     rank: Optional[int] = None, outputs: Optional[Sequence[str]] = None) -> list[str]:
    """Emit ``op`` over ``data`` with the fields ``params`` (name -> input index) set from inputs.

    Omitted optional inputs keep the field's default. ``rank`` is the output
    rank when the parameters are only known at run time (None: unknown).
    """
    given = {name: i for name, i in params.items() if ctx.input(i) is not None}
    outs = node_outputs(ctx, op.num_outputs) if outputs is None else list(outputs)
    if all(ctx.const(i) is not None for i in given.values()):
        types = {f.name: str(f.type) for f in dataclasses.fields(op)}
        try:
            bound = dataclasses.replace(op, **{n: field_value(types[n], ctx.const(i)) for n, i in given.items()})
        except InferError as exc:  # the op's own validation, naming the node
            raise InvalidArgumentError(f"ONNX node {ctx.name!r} ({ctx.node.op_type}): {exc}") from None
        return ctx.emit(bound, list(data), outs)
    names = tuple(given)
    return ctx.emit(FromInputs(op, names, rank), list(data) + [ctx.input(given[n]) for n in names], outs)
