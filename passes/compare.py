"""``outputs_differ``: whether two runs' outputs agree, within float tolerances.

Pass tests compare a graph's results before and after a rewrite with it, and
bisect (``netjit.compiler.bisect``) compares every trial with the unoptimised run.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from netjit.compiler.ops import FLOAT_DTYPES, TensorType

#: Default (rtol, atol) per float dtype: a few hundred ulps, enough for
#: reassociation or strength reduction, far below any real miscompile.
TOLERANCES = {np.dtype(np.float32): (1e-5, 1e-6), np.dtype(np.float64): (1e-12, 1e-14)}


def outputs_differ(expected: Sequence, actual: Sequence, rtol=None, atol=None) -> Optional[str]:
    """None if the outputs agree (NaN equals NaN), else what differs first."""
    if len(expected) != len(actual):
        return f"{len(actual)} outputs instead of {len(expected)}"
    for i, (e, a) in enumerate(zip(expected, actual)):
        e, a = np.asarray(e), np.asarray(a)
        if e.shape != a.shape or e.dtype != a.dtype:
            return f"output {i} is {TensorType.of(a)} instead of {TensorType.of(e)}"
        if e.dtype in FLOAT_DTYPES:
            r, t = TOLERANCES[e.dtype]
            ok = np.allclose(a, e, rtol=r if rtol is None else rtol, atol=t if atol is None else atol,
                             equal_nan=True)
        else:
            ok = np.array_equal(a, e)
        if not ok:
            return f"output {i} differs: expected {np.array2string(e, threshold=8)}, " \
                   f"got {np.array2string(a, threshold=8)}"
    return None
