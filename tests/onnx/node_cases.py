"""ONNX's node conformance cases, run through ``netjit.onnx.backend`` with ONNX's comparison rules.

The installed ``onnx`` wheel ships the cases as code
(``onnx.backend.test.case.node``), not as files: ``node_cases()`` collects
them in memory. A case counts for netjit when every op of its model has a
converter; ``EXCLUDED`` lists the cases of supported ops that netjit does
not pass, each with its reason (``exclusions.py``).
"""
from __future__ import annotations

import functools
import os
import warnings

import numpy as np

#: Which backend runs the cases: "reference" in CI (fast), NETJIT_ONNX_BACKEND=numba for the compiled run.
BACKEND = os.environ.get("NETJIT_ONNX_BACKEND", "reference")


@functools.lru_cache(maxsize=1)
def node_cases() -> list:
    """Every node test case of the installed onnx package, by name order."""
    from onnx.backend.test.case import node
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sorted(node.collect_testcases(None), key=lambda c: c.name)


def supported(case) -> bool:
    """True when netjit has a converter for every node of the case's model, in any domain.

    A model importing the default domain must import one of its opsets netjit reads.
    """
    from netjit.compiler.frontend.onnx.importer import default_opset, model_opsets, node_converter
    from netjit.errors import NetjitError
    opsets = model_opsets(case.model)
    if "" in opsets:
        try:
            default_opset(case.model)
        except NetjitError:
            return False
    return all(node_converter(n, opsets) is not None for n in case.model.graph.node)


def run_case(case, **options) -> None:
    """Prepare the case's model once and check every data set as ONNX's runner does."""
    from netjit.onnx import backend
    rep = backend.prepare(case.model, "CPU", backend=BACKEND, **options)
    for inputs, expected in case.data_sets:
        inputs, expected = [_array(x) for x in inputs], [_array(x) for x in expected]
        outputs = rep.run(inputs)
        assert_outputs_match(expected, outputs, case.rtol, case.atol)


def _array(value):
    """A data set's value as an array: some cases (Cast's) give TensorProtos, as ONNX's runner reads them."""
    import onnx
    from onnx import numpy_helper
    return numpy_helper.to_array(value) if isinstance(value, onnx.TensorProto) else value


def assert_outputs_match(expected, actual, rtol: float, atol: float) -> None:
    """onnx.backend.test.runner.Runner.assert_similar_outputs, for plain arrays."""
    assert len(expected) == len(actual), f"{len(actual)} outputs, expected {len(expected)}"
    for e, a in zip(expected, actual):
        e, a = np.asarray(e), np.asarray(a)
        assert e.dtype == a.dtype, f"dtype {a.dtype}, expected {e.dtype}"
        assert e.shape == a.shape, f"shape {a.shape}, expected {e.shape}"
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(a, e)
