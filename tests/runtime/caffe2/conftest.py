"""Caffe2-runtime tests run on every backend that is available (reference always, numba once it lands)."""
import pytest

from netjit.backends import get_backend
from netjit.config import SessionConfig
from netjit.errors import InvalidArgumentError


def _available_backends() -> list[str]:
    names = ["reference"]
    try:
        import netjit.backends.numba  # noqa: F401  (registers "numba")
        get_backend("numba")
        names.append("numba")
    except (ImportError, InvalidArgumentError):
        pass
    return names


BACKENDS = _available_backends()


@pytest.fixture(params=BACKENDS)
def config(request) -> SessionConfig:
    """A session config for one backend."""
    return SessionConfig(backend=request.param)
