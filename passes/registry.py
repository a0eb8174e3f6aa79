"""The pass registry: ``register_pass`` and the per-phase order of passes.

A pass is a function ``fn(graph, ctx) -> bool`` (True if it changed the graph)
registered under a unique name, in one phase, with ``after``/``before``
constraints on other passes of that phase. The order within a phase is a
topological order of the constraints, ties broken by registration order; a
constraint cycle is refused at registration, naming the passes in it.
Constraints naming passes that are not registered are ignored (a plugin may
order itself against another plugin that is not installed).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence

import networkx as nx

from netjit.errors import NotFoundError, PassError

from .phase import Phase

PassFn = Callable[..., bool]
BUILTIN = "built-in"


@dataclass(frozen=True)
class PassInfo:
    """A registered pass and what the pass manager needs to know about it."""

    name: str
    fn: PassFn
    phase: Phase
    opt_level: int = 1
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    #: Option names and defaults; ``ctx.option(key)`` reads them.
    options: Mapping = field(default_factory=dict)
    #: Needed for correctness: runs at every opt level, ignores the bisect limit.
    required: bool = False
    #: When the pass changes the graph, run its phase again (to a fixed point).
    fixed_point: bool = False
    origin: str = BUILTIN
    seq: int = 0
    #: Backend names the pass is for (empty: every backend); it runs only when the
    #: compile's backend (``ctx.backend``) is one of them.
    backends: tuple[str, ...] = ()

    def runs_on(self, backend: Optional[str]) -> bool:
        """Whether the pass runs for a compile on ``backend``."""
        return not self.backends or backend in self.backends

    @property
    def doc(self) -> str:
        """The first line of the pass's docstring."""
        text = (self.fn.__doc__ or "").strip()
        return text.splitlines()[0] if text else ""

    def __call__(self, graph, ctx) -> bool:
        return bool(self.fn(graph, ctx))


class PassRegistry:
    """Every registered pass by name; the constraint order per phase."""

    def __init__(self):
        self.passes: dict[str, PassInfo] = {}
        #: The distribution of the plugin loading now (None: origin from the pass's module).
        self.origin: Optional[str] = None
        self._seq = 0

    def add(self, info: PassInfo) -> PassInfo:
        old = self.passes.get(info.name)
        if old is not None:
            raise PassError(f"pass {info.name!r} is registered twice: by {old.origin} "
                            f"and by {info.origin}")
        self.passes[info.name] = info
        try:
            self.order(info.phase)
        except PassError as exc:
            del self.passes[info.name]
            raise PassError(f"registering pass {info.name!r}: {exc}") from None
        return info

    @contextlib.contextmanager
    def scratch(self) -> Iterator["PassRegistry"]:
        """Registrations made inside are forgotten on exit (for tests and experiments)."""
        saved = dict(self.passes)
        try:
            yield self
        finally:
            self.passes = saved

    def remove_origin(self, origin: str) -> None:
        """Forget every pass registered by ``origin`` (a plugin being reloaded)."""
        for name in [n for n, p in self.passes.items() if p.origin == origin]:
            del self.passes[name]

    def get(self, name: str) -> PassInfo:
        try:
            return self.passes[name]
        except KeyError:
            raise NotFoundError(f"unknown pass {name!r}; registered passes: "
                                f"{sorted(self.passes)}") from None

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def order(self, phase: Phase, extra: Sequence[tuple[str, str]] = ()) -> list[PassInfo]:
        """The passes of ``phase`` in run order; ``extra`` adds (first, then) pairs."""
        members = {n: p for n, p in self.passes.items() if p.phase is phase}
        dag = nx.DiGraph()
        dag.add_nodes_from(members)
        for p in members.values():
            dag.add_edges_from((a, p.name) for a in p.after if a in members)
            dag.add_edges_from((p.name, b) for b in p.before if b in members)
        dag.add_edges_from((a, b) for a, b in extra if a in members and b in members)
        try:
            names = list(nx.lexicographical_topological_sort(dag, key=lambda n: members[n].seq))
        except nx.NetworkXUnfeasible:
            cycle = [u for u, _ in nx.find_cycle(dag)]
            raise PassError(f"pass ordering constraints of phase {phase.name} form a cycle: "
                            f"{' -> '.join(cycle + cycle[:1])}") from None
        return [members[n] for n in names]


#: The process-wide registry (like the op registry: filled by decorators).
REGISTRY = PassRegistry()


def register_pass(name: str, phase=Phase.PRE_PLACEMENT, opt_level: int = 1,
                  after: Iterable[str] = (), before: Iterable[str] = (),
                  options: Optional[Mapping] = None, required: bool = False,
                  fixed_point: bool = False, backends: Iterable[str] = ()) -> Callable[[PassFn], PassFn]:
    """Decorator registering ``fn(graph, ctx) -> bool`` as the pass ``name``.

    Parameters
    ----------
    name : unique pass name (used by enable/disable/order options and dumps).
    phase : the Phase it runs in.
    opt_level : the lowest opt level (0-3) that runs it.
    after, before : names of passes of the same phase it must follow/precede.
    options : option names and their defaults, read with ``ctx.option(key)``.
    required : run at every opt level and regardless of the bisect limit.
    fixed_point : when it changes the graph, run the phase again until nothing changes.
    backends : names of the backends it is for (``("numba",)``); empty: every backend.
    """
    if not 0 <= opt_level <= 3:
        raise PassError(f"pass {name!r}: opt_level must be 0..3, got {opt_level}")

    def decorate(fn: PassFn) -> PassFn:
        REGISTRY.add(PassInfo(name, fn, Phase.parse(phase), opt_level,
                              tuple(after), tuple(before), dict(options or {}),
                              required, fixed_point, REGISTRY.origin or origin_of(fn),
                              REGISTRY.next_seq(), tuple(backends)))
        return fn
    return decorate


def origin_of(fn: PassFn) -> str:
    """``"built-in"`` for netjit's own passes; else ``"user: <module>"`` (a script's or
    an application's pass, registered outside any plugin)."""
    module = getattr(fn, "__module__", None) or "?"
    return BUILTIN if module == "netjit" or module.startswith("netjit.") else f"user: {module}"
