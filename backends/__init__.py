"""Backends: turn an optimised Graph into an executable."""
from __future__ import annotations

from netjit.errors import InvalidArgumentError

_FACTORIES = {}


def register_backend(name: str, factory) -> None:
    """Make ``factory()`` available as backend ``name``."""
    _FACTORIES[name] = factory


def get_backend(name: str):
    """The backend called ``name`` ("reference", "numba")."""
    if name not in _FACTORIES:
        if name == "reference":
            from .reference import ReferenceBackend
            register_backend("reference", ReferenceBackend)
        elif name == "numba":
            from .numba import NumbaBackend   # imports numba only when it compiles
            register_backend("numba", NumbaBackend)
        else:
            raise InvalidArgumentError(f"unknown backend {name!r}; available: {sorted(_FACTORIES) or ['reference']}")
    return _FACTORIES[name]()
