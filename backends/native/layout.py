"""The argument layout of a native segment: what the planner decides, the emitter
and the call wrapper follow. No llvmlite here: a cache hit never needs it."""
from __future__ import annotations

import numpy as np

from netjit.compiler.ops import TensorType

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
BOOL = np.dtype(np.bool_)
#: dtypes a value of a native segment may have (bool only inside the loop)
DTYPES = (F32, F64, BOOL)


# Plain classes, not dataclasses: creating a dataclass costs about a
# millisecond at import, on the warm-start path.
class Arg:
    """One pointer argument: a segment input (``input`` index) or a large constant."""

    __slots__ = ("dtype", "uniform", "input", "const")

    def __init__(self, dtype: np.dtype, uniform: bool, input: int = -1, const=None):
        self.dtype = dtype
        self.uniform = uniform          # one element, broadcast to all
        self.input = input              # index into graph.inputs, or -1 for a constant
        self.const = const              # the array when input == -1

    def __repr__(self) -> str:          # part of the cache key: no constant values
        return f"Arg({self.dtype}, uniform={self.uniform}, input={self.input})"


class Layout:
    """How a segment maps to the native function's arguments."""

    __slots__ = ("args", "out_dtypes", "lanes", "program_dtypes")

    def __init__(self, args: list, out_dtypes: list, lanes: int, program_dtypes: dict):
        self.args = args                # Arg per pointer argument, in order
        self.out_dtypes = out_dtypes    # per graph output
        self.lanes = lanes
        #: FusedElementwise node -> the dtype of each of its program's values
        self.program_dtypes = program_dtypes

    def shape_const(self):
        """The first constant argument's array, or None: a constant fixes the shape of
        every full value (the planner admits only constants of the outputs' shape)."""
        return next((a.const for a in self.args if a.input < 0), None)


def program_dtypes(op, in_dtypes: list) -> list:
    """The dtypes of a FusedElementwise program's values: its inputs, then one per instruction."""
    vals = list(in_dtypes)
    for inner, refs in op.program:
        vals.append(inner.infer(*(TensorType(vals[r], ()) for r in refs))[0].dtype)
    return vals
