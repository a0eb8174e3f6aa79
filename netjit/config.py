"""Session and run configuration (a leaf module: imports nothing of netjit)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class SessionConfig:
    """Options of a Session; the defaults suit most users."""

    device_count: dict = field(default_factory=lambda: {"cpu": 1})
    opt_level: int = 2
    inter_op_threads: Optional[int] = None
    operation_timeout_s: Optional[float] = None
    allow_soft_placement: bool = False
    backend: str = "reference"
    tiered: bool = True
    cache_dir: Optional[str] = None
    dump_dir: Optional[str] = None
    disabled_passes: tuple = ()
    verify_passes: bool = False


@dataclass
class RunOptions:
    """Per-run options: a deadline and how much to trace."""

    NO_TRACE = 0
    FULL_TRACE = 3

    timeout_s: Optional[float] = None
    trace_level: int = 0
