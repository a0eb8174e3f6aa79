"""ONNX's node conformance suite, run by ONNX's own ``onnx.backend.test.BackendTest``.

The installed onnx builds its node cases in memory
(``load_model_tests(kind="node")`` collects ``onnx.backend.test.case.node``),
so the runner needs no data folder. It runs the cases whose every op has a
converter (``node_cases.supported``), minus ``EXCLUDED`` (``exclusions/``:
the one list, each case with its reason). Each case is prepared once through
``netjit.onnx.backend`` and compared with ONNX's ``assert_similar_outputs``.
"""
from __future__ import annotations

import re
import unittest

import onnx.backend.test

from exclusions import EXCLUDED
from netjit.onnx.backend import NetjitBackend
from node_cases import BACKEND, node_cases, supported

CASES = [c for c in node_cases() if supported(c)]


class _Backend(NetjitBackend):
    """The backend with the test's choice of netjit backend (``NETJIT_ONNX_BACKEND``)."""

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        return super().prepare(model, device, **{"backend": BACKEND, **kwargs})


def _skip(reason: str):
    def test(self):
        raise unittest.SkipTest(reason)
    return test


_suite = onnx.backend.test.BackendTest(_Backend, __name__)
for _case in CASES:
    _suite.include(f"^{re.escape(_case.name)}_cpu$")
OnnxBackendNodeModelTest = _suite.test_cases["OnnxBackendNodeModelTest"]
_WANTED = {f"{c.name}_cpu" for c in CASES}
for _attr in [a for a in vars(OnnxBackendNodeModelTest) if a.startswith("test_") and a not in _WANTED]:
    delattr(OnnxBackendNodeModelTest, _attr)       # not collected: no converter for an op
for _name, _reason in EXCLUDED.items():
    if f"{_name}_cpu" in _WANTED:
        setattr(OnnxBackendNodeModelTest, f"{_name}_cpu", _skip(_reason))


def test_the_suite_covers_cases():
    """Guards against a collection that silently finds nothing."""
    assert len(node_cases()) > 1000
    assert len(CASES) >= 20
    assert len([a for a in vars(OnnxBackendNodeModelTest) if a.startswith("test_")]) == len(CASES)
