"""Shared test set-up: hypothesis profiles.

``ci`` (the default) keeps property tests quick; ``nightly`` runs many more
examples. Choose with ``NETJIT_HYPOTHESIS_PROFILE=nightly python -m pytest``.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("NETJIT_HYPOTHESIS_PROFILE", "ci"))
