"""Backends: turn an optimised Graph into an executable (the contract: ``base``).

* ``reference``: NumPy, op by op; the oracle of the tests.
* ``numba``: generated Python compiled with numba; it offers float elementwise
  segments to ``native`` first (LLVM IR through llvmlite, no numba).
* ``common``: what the compiled backends share: the compile cache, buffer and
  thread pools, fast-math levels, approximation constants, the packed GEMM's
  ABI and tiered execution.
"""
from __future__ import annotations

from typing import Callable

from netjit.errors import InvalidArgumentError

from .base import Backend
from .numba import NumbaBackend          # imports numba itself only when it compiles
from .reference import ReferenceBackend

_FACTORIES: dict[str, Callable[[], Backend]] = {"reference": ReferenceBackend, "numba": NumbaBackend}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``factory()`` (a ``Backend``) available as backend ``name``."""
    _FACTORIES[name] = factory


def get_backend(name: str) -> Backend:
    """The backend called ``name`` ("reference", "numba", or one registered)."""
    if name not in _FACTORIES:
        raise InvalidArgumentError(f"unknown backend {name!r}; available: {sorted(_FACTORIES)}")
    backend = _FACTORIES[name]()
    if not isinstance(backend, Backend):
        raise InvalidArgumentError(f"backend {name!r}: its factory returned {type(backend).__name__}, "
                                   "not a netjit.backends.base.Backend")
    return backend
