"""The argument layout of a native segment: what the planner decides, the emitter
and the call wrapper follow. No llvmlite here: a cache hit never needs it."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
BOOL = np.dtype(np.bool_)
#: dtypes a value of a native segment may have (bool only inside the loop)
DTYPES = (F32, F64, BOOL)


@dataclass(frozen=True)
class Arg:
    """One pointer argument: a segment input (``input`` index) or a large constant."""

    dtype: np.dtype
    uniform: bool                  # one element, broadcast to all
    input: int = -1                # index into graph.inputs, or -1 for a constant
    const: object = field(default=None, repr=False, compare=False)   # the array when input == -1


@dataclass
class Layout:
    """How a segment maps to the native function's arguments."""

    args: list                     # Arg per pointer argument, in order
    out_dtypes: list               # per graph output
    lanes: int
