"""Shared test set-up: hypothesis profiles and a private compile cache.

``ci`` (the default) keeps property tests quick; ``nightly`` runs many more
examples. Choose with ``NETJIT_HYPOTHESIS_PROFILE=nightly python -m pytest``.

Every test run compiles into its own temporary cache directory: tests must not
fill (or be served stale entries from) the user's ``~/.cache/netjit``, and
cache-miss assertions need a cache that starts empty. Its signing key lives in
the same private directory (``NETJIT_CACHE_KEY_FILE``), not in ``~/.config``.
Subprocesses started by tests inherit both through the environment.
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

_ENV = ("NETJIT_CACHE_DIR", "NETJIT_CACHE_KEY_FILE")
_saved_env: dict = {}


def pytest_configure(config):
    _saved_env.update({name: os.environ.get(name) for name in _ENV})
    config._netjit_cache_dir = tempfile.mkdtemp(prefix="netjit-test-cache-")
    os.environ["NETJIT_CACHE_DIR"] = config._netjit_cache_dir
    os.environ["NETJIT_CACHE_KEY_FILE"] = os.path.join(config._netjit_cache_dir, "key", "cache-key")


def pytest_unconfigure(config):
    path = getattr(config, "_netjit_cache_dir", None)
    for name, value in _saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if path:
        shutil.rmtree(path, ignore_errors=True)
