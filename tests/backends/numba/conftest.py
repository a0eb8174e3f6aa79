"""Numba backend tests (the temporary compile cache is set up in tests/conftest.py)."""
import pytest


@pytest.fixture(scope="session")
def numba_backend():
    from netjit.backends import get_backend
    return get_backend("numba")
