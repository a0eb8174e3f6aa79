"""Numba backend tests (the temporary compile cache is set up in tests/conftest.py)."""
import os

import pytest


@pytest.fixture(scope="session")
def numba_backend():
    """The numba backend as the pipeline drives it: its SEGMENT passes (FC and Softmax
    expansion, weight prepacking) run on each graph before it compiles it."""
    from numba_helpers import PipelineNumba
    return PipelineNumba()



@pytest.fixture(autouse=True, scope="module")
def _numba_code_generator():
    """These tests are about numba's code generator; the native one, which would take
    their elementwise-only graphs, has its own (tests/backends/native). Module scope,
    so that module fixtures compiling in subprocesses see it too."""
    old = os.environ.get("NETJIT_NATIVE")
    os.environ["NETJIT_NATIVE"] = "0"
    yield
    if old is None:
        del os.environ["NETJIT_NATIVE"]
    else:
        os.environ["NETJIT_NATIVE"] = old
