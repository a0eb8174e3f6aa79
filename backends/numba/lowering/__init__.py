"""The numba backend's lowerings, one module per op family (as PyTensor's numba dispatch).

An elementwise op is computed inside loop groups from its scalar form
(``elementwise.SCALAR_FORMS``); any other op the backend compiles is written
as statements by ``lower_stmt``, whose rows live in the family modules
(``contraction``, ``shape``, ``reduction``). Importing this package loads
``blas``, and so numba: only the compile path imports it.
"""
from __future__ import annotations

from netjit.compiler.ops import OP_REGISTRY, FusedElementwise

from netjit.compiler.ops import PackedMatMul
from . import contraction, shape  # noqa: F401  (their lower_stmt rows)
from .base import ScalarContext, ctor, has_stmt_lowering, lower_stmt
from .elementwise import SCALAR_FORMS, has_scalar_form, scalar_expr
from .reduction import (SUM_BLOCK, accumulate, accumulator_init, reduction_result,
                        sums_in_blocks)

__all__ = ["SCALAR_FORMS", "SUM_BLOCK", "ScalarContext", "accumulate", "accumulator_init",
           "compiled_ops", "ctor", "lower_stmt", "reduction_result", "scalar_expr", "sums_in_blocks"]


def compiled_ops() -> frozenset[type]:
    """The op classes the numba backend compiles.

    Registered ops with a scalar form (computed in loop groups) or a
    ``lower_stmt`` row (statements), ``FusedElementwise`` (its program's ops
    through the scalar forms) and the backend's own ``PackedMatMul``. Ops the
    backend first rewrites into others (the ``expand_composites`` pass: ``Softmax``) and host ops
    (run by their NumPy references in the wrapper) are not listed.
    """
    candidates = set(OP_REGISTRY.values()) | {PackedMatMul}
    lowered = {c for c in candidates if has_scalar_form(c) or has_stmt_lowering(c)}
    return frozenset(lowered | {FusedElementwise})
