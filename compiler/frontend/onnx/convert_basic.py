"""Converters of the ONNX ops that map one to one onto netjit's first ops.

    Add(a, b) -> Add(a, b)          Relu(x) -> Relu(x)
    MatMul(a, b) -> MatMul(a, b)    Identity(x) -> Copy(x)
    Constant(value=t) -> Const(t)
    (Div, with ONNX's truncating integer division, is in ``convert_elementwise``.)
"""
from __future__ import annotations

import numpy as np

from ... import ops as O
from .converters import NodeContext, onnx_op

_SAME = {"Add": O.Add, "Sub": O.Sub, "Mul": O.Mul, "Relu": O.Relu, "Exp": O.Exp,
         "Log": O.Log, "Sqrt": O.Sqrt, "Tanh": O.Tanh, "Sigmoid": O.Sigmoid, "Neg": O.Neg, "Abs": O.Abs,
         "MatMul": O.MatMul, "Identity": O.Copy}


def _same(op_cls):
    def convert(ctx: NodeContext) -> None:
        ctx.emit(op_cls(), ctx.inputs())
    return convert


for _name, _cls in _SAME.items():
    onnx_op(_name)(_same(_cls))


@onnx_op("Constant")
def constant(ctx: NodeContext) -> None:
    """Constant(value=t) -> a known constant (the other value_* forms too)."""
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in ctx.attrs:
            value = ctx.attrs[key]
            dtype = np.float32 if key.startswith("value_float") else np.int64 if key.startswith("value_int") \
                else None
            ctx.set_const(ctx.output(0), np.asarray(value, dtype=dtype))
            return
    raise ctx.unsupported(f"none of the supported value attributes is set ({sorted(ctx.attrs)})")

