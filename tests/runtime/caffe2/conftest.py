"""Caffe2-runtime tests run on every backend that is available (reference always, numba once it lands)."""
import pytest

from caffe2_backends import BACKENDS
from netjit.config import SessionConfig


@pytest.fixture(params=BACKENDS)
def config(request) -> SessionConfig:
    """A session config for one backend."""
    return SessionConfig(backend=request.param)
