"""The backends the Caffe2-runtime tests run on: reference always, numba once it is available."""
from netjit.backends import get_backend
from netjit.errors import InvalidArgumentError


def available_backends() -> list[str]:
    names = ["reference"]
    try:
        import netjit.backends.numba  # noqa: F401  (registers "numba")
        get_backend("numba")
        names.append("numba")
    except (ImportError, InvalidArgumentError):
        pass
    return names


BACKENDS = available_backends()
