"""Small graphs planned into loop groups, for the loop IR's unit tests."""
from __future__ import annotations

import numpy as np

from netjit.backends.numba.groups import ConstRef, LoopGroup
from netjit.backends.numba.kernel_plan import plan_kernel
from netjit.compiler.ir import Graph
from netjit.compiler.ops import Const, Div, Exp, Placeholder, ReduceMax, ReduceSum, Sub

F32 = np.dtype(np.float32)


class Builder:
    """A graph under construction: ``x = b.input((None, 16))``, ``y = b.op(Exp(), x)``."""

    def __init__(self, name: str = "g"):
        self.g = Graph(name)

    def input(self, shape, dtype=F32) -> tuple:
        n = self.g.add(Placeholder(np.dtype(dtype), tuple(shape)), names=[f"in{len(self.g.inputs)}"])
        self.g.inputs.append(n)
        return (n, 0)

    def const(self, value, dtype=F32) -> tuple:
        return (self.g.add(Const(np.asarray(value, dtype)), []), 0)

    def op(self, op, *ins) -> tuple:
        return (self.g.add(op, list(ins)), 0)

    def plan(self, *outputs) -> list:
        """The kernel plan of the whole graph as one stage, ``outputs`` its results."""
        g = self.g
        g.outputs = list(outputs)
        nodes = [n for n in g.nodes() if n not in g.inputs and not isinstance(g.op(n), Const)]
        return plan_kernel(g, nodes, self._scalar_const, lambda v: tuple(v) in set(g.outputs))

    def group(self, *outputs) -> LoopGroup:
        """The plan's only item, a loop group."""
        (item,) = self.plan(*outputs)
        assert isinstance(item, LoopGroup)
        return item

    def _scalar_const(self, v, out_rank: int):
        op = self.g.op(v[0])
        if not isinstance(op, Const) or op.value.array.size != 1 or op.value.array.ndim > out_rank:
            return None
        arr = op.value.array
        return ConstRef(f"k{v[0]}", arr.dtype.type(arr.reshape(()).item()))


def softmax(b: Builder, x: tuple) -> tuple:
    """Softmax along the last axis as the backend expands it."""
    e = b.op(Exp(), b.op(Sub(), x, b.op(ReduceMax(axes=(-1,)), x)))
    return b.op(Div(), e, b.op(ReduceSum(axes=(-1,)), e))
