"""``list_passes()``: the registered passes as records, for tools and the CLI."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .phase import Phase
from .plugins import ensure_plugins
from .registry import REGISTRY


@dataclass(frozen=True)
class PassRecord:
    """One registered pass as ``netjit passes`` shows it."""

    name: str
    phase: Phase
    #: Position in its phase's run order (0 first), before options reorder it.
    order: int
    opt_level: int
    #: "built-in", the name of the plugin distribution that registered it, or
    #: "user: <module>" for a pass registered outside a plugin (``registry.origin_of``).
    origin: str
    required: bool
    doc: str
    #: The backends it runs for (empty: every backend).
    backends: tuple = ()


def list_passes(phase: Optional[Phase] = None) -> list[PassRecord]:
    """Every registered pass (plugins loaded first), by phase then run order."""
    ensure_plugins()
    phases = [Phase.parse(phase)] if phase is not None else list(Phase)
    return [PassRecord(p.name, ph, i, p.opt_level, p.origin, p.required, p.doc, p.backends)
            for ph in phases for i, p in enumerate(REGISTRY.order(ph))]
