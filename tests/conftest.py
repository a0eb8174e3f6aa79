"""Shared test set-up: hypothesis profiles and a private compile cache.

``ci`` (the default) keeps property tests quick; ``nightly`` runs many more
examples. Choose with ``NETJIT_HYPOTHESIS_PROFILE=nightly python -m pytest``.

Every test run compiles into its own temporary cache directory: tests must not
fill (or be served stale entries from) the user's ``~/.cache/netjit``, and
cache-miss assertions need a cache that starts empty. Subprocesses started by
tests inherit the directory through the environment.
"""
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("NETJIT_HYPOTHESIS_PROFILE", "ci"))

_saved_cache_dir = None


def pytest_configure(config):
    global _saved_cache_dir
    _saved_cache_dir = os.environ.get("NETJIT_CACHE_DIR")
    config._netjit_cache_dir = tempfile.mkdtemp(prefix="netjit-test-cache-")
    os.environ["NETJIT_CACHE_DIR"] = config._netjit_cache_dir


def pytest_unconfigure(config):
    path = getattr(config, "_netjit_cache_dir", None)
    if _saved_cache_dir is None:
        os.environ.pop("NETJIT_CACHE_DIR", None)
    else:
        os.environ["NETJIT_CACHE_DIR"] = _saved_cache_dir
    if path:
        shutil.rmtree(path, ignore_errors=True)
