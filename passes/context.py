"""PassContext: everything a pass may read besides the graph.

Passes keep no module-level state; the options, the feeds/fetches/targets of
the compile, a logger, an analysis cache and the instruments all come
through the context. One context serves every phase of one compile, so pass
application numbers (dumps, bisect) run on across phases.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from netjit.errors import InvalidArgumentError

from .instruments import standard_instruments
from .options import PassOptions, from_config
from .phase import Phase
from .registry import PassInfo

LOGGER = logging.getLogger("netjit.passes")


@dataclass
class Application:
    """One application of one pass: what the instruments record about it."""

    index: int
    info: PassInfo
    phase: Phase
    iteration: int
    graph_name: str = ""
    changed: bool = False
    skipped: bool = False
    seconds: float = 0.0
    nodes_before: int = 0
    nodes_after: int = 0

    @property
    def name(self) -> str:
        return self.info.name

    def as_dict(self) -> dict:
        return {"index": self.index, "pass": self.name, "phase": self.phase.name,
                "iteration": self.iteration, "graph": self.graph_name,
                "origin": self.info.origin, "changed": self.changed, "skipped": self.skipped,
                "seconds": self.seconds, "nodes_before": self.nodes_before,
                "nodes_after": self.nodes_after}


class AnalysisCache:
    """Results of graph analyses, dropped whenever a pass changes the graph.

    One context serves several graphs (partitions), so entries are per graph.
    """

    def __init__(self):
        self._values: dict = {}

    def get(self, graph, key, compute: Callable[[], Any]):
        """The cached value of analysis ``key`` of ``graph``, computing it on a miss."""
        slot = (key, id(graph))
        hit = self._values.get(slot)
        if hit is None or hit[0] is not graph:
            hit = self._values[slot] = (graph, compute())
        return hit[1]

    def invalidate(self) -> None:
        self._values.clear()


@dataclass
class PassContext:
    """Options, compile signature, logger, analyses and instruments of a compile."""

    options: PassOptions = field(default_factory=PassOptions)
    feeds: tuple = ()
    fetches: tuple = ()
    targets: tuple = ()
    logger: logging.Logger = LOGGER
    analyses: AnalysisCache = field(default_factory=AnalysisCache)
    instruments: list = field(default_factory=list)
    #: Every pass application so far, in order (skipped ones included).
    history: list = field(default_factory=list)
    #: The pass running now (set by the pass manager).
    current: Optional[PassInfo] = None
    rerun_requested: bool = False
    #: The compile's backend name: passes registered for other backends do not run.
    backend: Optional[str] = None
    #: The SessionConfig (or None) of the compile, for backend passes' options.
    config: Any = None

    @property
    def opt_level(self) -> int:
        return self.options.opt_level

    @property
    def fast_math(self) -> bool:
        return self.options.fast_math

    def option(self, key: str):
        """Option ``key`` of the running pass (user value, else the registered default)."""
        info = self.current
        if info is None:
            raise InvalidArgumentError(f"ctx.option({key!r}) called outside a pass")
        if key not in info.options:
            raise InvalidArgumentError(f"pass {info.name!r} has no option {key!r}; its options "
                                       f"are {sorted(info.options)}")
        return dict(self.options.pass_options.get(info.name, {})).get(key, info.options[key])

    def request_rerun(self) -> None:
        """Ask for the current phase to run again (fixed-point iteration)."""
        self.rerun_requested = True

    def add_instrument(self, instrument) -> None:
        """Add a PassInstrument; it sees every later pass application."""
        self.instruments.append(instrument)

    def ran_before(self) -> list[str]:
        """Names of the passes applied so far (not skipped), in order."""
        return [a.name for a in self.history if not a.skipped]


def make_context(config=None, feeds: Sequence = (), fetches: Sequence = (),
                 targets: Sequence = (), instruments: Sequence = (), backend: Optional[str] = None,
                 **overrides) -> PassContext:
    """A PassContext from a SessionConfig (or None), the environment and overrides.

    ``overrides`` are PassOptions fields (``opt_level=0``, ``disabled=...``,
    ``bisect_limit=3``, ``verify=True``, ``pass_options={...}``...). The
    standard instruments (timing, then verification and IR dumps when asked)
    come first, then ``instruments``. ``backend`` (default: ``config.backend``)
    selects the passes registered for one backend only.
    """
    options = from_config(config, **overrides)
    ctx = PassContext(options, tuple(map(str, feeds)), tuple(map(str, fetches)),
                      tuple(map(str, targets)), backend=backend or getattr(config, "backend", None),
                      config=config)
    ctx.instruments = standard_instruments(options) + list(instruments)
    return ctx
