"""Pass options from SessionConfig, the environment and explicit overrides.

Precedence, lowest first: SessionConfig fields, environment variables
(``NETJIT_OPT_LEVEL``, ``NETJIT_DISABLE_PASSES`` (comma list, always added to
the disabled set), ``NETJIT_DUMP_DIR``, ``NETJIT_PASS_BISECT``), then keyword
overrides. Verification left unset (None) is on under pytest (``PYTEST_CURRENT_TEST``)
and with ``NETJIT_DEBUG=1``, off otherwise.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

from netjit.config import verify_passes_by_default
from netjit.errors import InvalidArgumentError

#: SessionConfig field -> PassOptions field, for the fields the passes read.
CONFIG_FIELDS = {"opt_level": "opt_level", "disabled_passes": "disabled",
                 "enabled_passes": "enabled", "pass_order": "order",
                 "pass_options": "pass_options", "bisect_limit": "bisect_limit",
                 "dump_dir": "dump_dir", "verify_passes": "verify", "fast_math": "fast_math"}


@dataclass(frozen=True)
class PassOptions:
    """What the pass manager is told to do."""

    #: 0: required passes only; 1: cleanups (folding, simplification, CSE, DCE);
    #: 2: + fusion (the default); 3: + rewrites that may change float rounding
    #: in the last bit (never NaN/Inf semantics: that is fast_math).
    opt_level: int = 2
    enabled: frozenset = frozenset()
    disabled: frozenset = frozenset()
    #: Pass names in the relative order they must run (adds constraints).
    order: tuple = ()
    #: pass name -> {option: value}, over the pass's registered defaults.
    pass_options: Mapping = field(default_factory=dict)
    #: Run only the first N pass applications (required passes always run).
    bisect_limit: Optional[int] = None
    dump_dir: Optional[str] = None
    verify: bool = False
    #: Allow rewrites that are exact only without NaN/Inf/signed zeros.
    fast_math: bool = False
    #: Bound on re-running a phase to a fixed point.
    max_iterations: int = 8

    def __post_init__(self):
        if not 0 <= int(self.opt_level) <= 3:
            raise InvalidArgumentError(f"opt_level must be 0..3, got {self.opt_level!r}")
        for f in ("enabled", "disabled"):
            value = getattr(self, f)
            object.__setattr__(self, f, frozenset([value] if isinstance(value, str) else value))
        if isinstance(self.order, str):
            object.__setattr__(self, "order", (self.order,))
        object.__setattr__(self, "order", tuple(self.order))
        object.__setattr__(self, "opt_level", int(self.opt_level))
        if self.bisect_limit is not None and int(self.bisect_limit) < 0:
            raise InvalidArgumentError(f"bisect_limit must be >= 0, got {self.bisect_limit!r}")


def _env_int(env: Mapping, key: str) -> Optional[int]:
    raw = env.get(key, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidArgumentError(f"{key}={raw!r}: expected an integer") from None


def from_config(config=None, env: Optional[Mapping] = None, **overrides) -> PassOptions:
    """PassOptions from a SessionConfig (or None), the environment and overrides."""
    env = os.environ if env is None else env
    values: dict = {}
    for cfg_name, opt_name in CONFIG_FIELDS.items():
        if config is not None and getattr(config, cfg_name, None) is not None:
            values[opt_name] = getattr(config, cfg_name)
    if values.get("verify") is None:  # None: on in tests and debug mode
        values["verify"] = verify_passes_by_default(env)
    level = _env_int(env, "NETJIT_OPT_LEVEL")
    if level is not None:
        values["opt_level"] = level
    extra = [p.strip() for p in env.get("NETJIT_DISABLE_PASSES", "").split(",") if p.strip()]
    values["disabled"] = frozenset(values.get("disabled", ())) | frozenset(extra)
    if env.get("NETJIT_DUMP_DIR"):
        values["dump_dir"] = env["NETJIT_DUMP_DIR"]
    limit = _env_int(env, "NETJIT_PASS_BISECT")
    if limit is not None:
        values["bisect_limit"] = limit
    values.update(overrides)
    if "disabled" in overrides:  # the environment's kill-switch survives an explicit set
        values["disabled"] = frozenset(overrides["disabled"]) | frozenset(extra)
    unknown = set(values) - {f.name for f in dataclasses.fields(PassOptions)}
    if unknown:
        raise InvalidArgumentError(f"unknown pass options {sorted(unknown)}")
    return PassOptions(**values)

