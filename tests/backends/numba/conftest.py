"""Numba backend tests: one on-disk cache per test session, in a temp dir."""
import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def numba_cache_dir(tmp_path_factory):
    """Never write to ~/.cache: every numba test shares one temporary cache."""
    path = tmp_path_factory.mktemp("netjit-cache")
    old = os.environ.get("NETJIT_CACHE_DIR")
    os.environ["NETJIT_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("NETJIT_CACHE_DIR", None)
    else:
        os.environ["NETJIT_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def numba_backend():
    from netjit.backends import get_backend
    return get_backend("numba")
