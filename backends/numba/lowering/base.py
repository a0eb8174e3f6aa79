"""What every numba lowering shares: the dispatch of statements, scalar typing helpers.

Generated code follows NumPy's promotion, not Python's: every scalar result
is wrapped in its NumPy dtype constructor (``np.float32(...)``) where numba
would otherwise widen it (i32 + i32 stays i32, f32 math stays f32); LLVM
drops the no-op casts. Constants are typed module globals (``ctx.const``),
never bare Python floats, which would promote float32 loops to float64.
"""
from __future__ import annotations

from functools import singledispatch
from typing import Callable, Protocol, Sequence

import numpy as np

from netjit.compiler.ops import Op, TensorType
from netjit.compiler.ops.types import FLOAT_DTYPES

from ..writer import Writer


class ScalarContext(Protocol):
    """What a scalar form may ask of the module it is written into."""

    fastmath: int

    def const(self, value, dtype: np.dtype) -> str:
        """A module global holding ``value`` as a scalar of ``dtype``."""

    def literal_of(self, arg: str):
        """The Python value of an argument that is an inlined constant, else None."""

    def is_nonpositive(self, arg: str) -> bool:
        """Whether the argument is known to be <= 0 or NaN, up to rounding (``x - max(x)``)."""


#: ``form(op, args, in_dtypes, out_dtype, ctx) -> str``: one element of ``op``'s output
#: from its operands' expressions ``args``.
ScalarForm = Callable[[Op, Sequence[str], Sequence[np.dtype], np.dtype, ScalarContext], str]


def ctor(dtype: np.dtype) -> str:
    """The numba-visible scalar constructor of a dtype."""
    return "np.bool_" if dtype == np.bool_ else f"np.{np.dtype(dtype).name}"


def cast(expr: str, dtype: np.dtype) -> str:
    """``expr`` converted to ``dtype``."""
    return f"{ctor(dtype)}({expr})"


def cast_if(expr: str, dtype, to) -> str:
    """``expr`` as ``to``, without a cast when it already is."""
    return expr if np.dtype(dtype) == np.dtype(to) else cast(expr, to)


def result(expr: str, dtype) -> str:
    """Float arithmetic on equal float types stays in that type in numba; ints widen."""
    return expr if np.dtype(dtype) in FLOAT_DTYPES else cast(expr, dtype)


def tup(items) -> str:
    """A Python tuple display of ``items`` (``(a,)`` for one)."""
    items = list(items)
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")" if items else "()"


def np_dtype(t: TensorType) -> str:
    """The NumPy dtype of ``t`` as generated code names it."""
    return f"np.{np.dtype(t.dtype).name}"


@singledispatch
def lower_stmt(op, w: Writer, ins: list, outs: list, in_types: list, out_types: list) -> None:
    """Write lines computing ``outs`` from ``ins`` (kernel variable names) for an op outside
    loop groups; ranks are static, shapes are read at run time. Registered per op class
    in the family modules beside this one."""
    raise NotImplementedError(f"the numba backend has no lowering for {op.name}")


def has_stmt_lowering(cls: type) -> bool:
    """Whether ``lower_stmt`` has a row for op class ``cls`` (or a base of it)."""
    return lower_stmt.dispatch(cls) is not lower_stmt.dispatch(object)
