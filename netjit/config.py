"""Session and run configuration (a leaf module: of netjit it imports only the errors)."""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Real
from typing import Mapping, Optional

from netjit.errors import InvalidArgumentError


def verify_passes_by_default(env: Mapping[str, str]) -> bool:
    """What ``SessionConfig(verify_passes=None)`` means: verify under pytest and with NETJIT_DEBUG=1."""
    return bool(env.get("PYTEST_CURRENT_TEST")) or env.get("NETJIT_DEBUG", "") == "1"


@dataclass(frozen=True)
class SessionConfig:
    """Options of a Session; the defaults suit most users."""

    device_count: dict = field(default_factory=lambda: {"cpu": 1})
    opt_level: int = 2
    inter_op_threads: Optional[int] = None
    operation_timeout_s: Optional[float] = None
    allow_soft_placement: bool = False
    backend: str = "numba"
    tiered: bool = True
    cache_dir: Optional[str] = None
    dump_dir: Optional[str] = None
    disabled_passes: tuple = ()
    #: None: verify after every pass under pytest and with NETJIT_DEBUG=1.
    verify_passes: Optional[bool] = None
    enabled_passes: tuple = ()
    #: Pass names in the relative order they must run.
    pass_order: tuple = ()
    #: pass name -> {option: value}.
    pass_options: dict = field(default_factory=dict)
    #: Run only the first N pass applications (NETJIT_PASS_BISECT).
    bisect_limit: Optional[int] = None
    #: Allow rewrites exact only without NaN/Inf/signed zeros (x*0 -> 0 for floats).
    fast_math: bool = False


@dataclass
class RunOptions:
    """Per-run options: a deadline and how much to trace."""

    NO_TRACE = 0
    FULL_TRACE = 3

    timeout_s: Optional[float] = None
    trace_level: int = 0

    def __post_init__(self):
        bad = None
        if self.timeout_s is not None and (not isinstance(self.timeout_s, Real) or isinstance(self.timeout_s, bool)
                                           or not self.timeout_s >= 0):
            bad = f"timeout_s must be None or a number of seconds >= 0, got {self.timeout_s!r}"
        elif not isinstance(self.trace_level, int) or isinstance(self.trace_level, bool):
            bad = f"trace_level must be an int (RunOptions.NO_TRACE or FULL_TRACE), got {self.trace_level!r}"
        if bad:
            raise InvalidArgumentError(f"RunOptions: {bad}")
