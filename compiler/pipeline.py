"""The compile pipeline: lower, resolve fetches, optimise, place, partition, emit.

Everything a session needs to turn (program, feeds, fetches, targets) into an
executable goes through ``build_graph`` and ``compile_graph``; this is the one
place the stages are composed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from netjit.errors import InvalidArgumentError, NotFoundError

from .ir import Graph
from .lowering import Lowered, lower
from .net import OpDef
from .ops import TensorType
from .prune import prune


@dataclass(frozen=True)
class Signature:
    """What one executable is specialised for."""

    feeds: tuple[str, ...]
    fetches: tuple[str, ...]
    targets: tuple[str, ...] = ()


def known_blobs(ops: Sequence[OpDef]) -> set[str]:
    """Every blob name a program reads or writes."""
    return {b for d in ops for b in d.inputs + d.outputs}


def resolve(lowered: Lowered, ops: Sequence[OpDef], name: str, blob: str, what: str):
    """The value of ``blob``, or the error that says why it cannot be had."""
    if blob in lowered.blobs:
        return lowered.blobs[blob]
    if blob in lowered.missing:
        raise InvalidArgumentError(f"cannot {what} {blob!r} in net {name!r}: {lowered.missing[blob]}")
    if blob in known_blobs(ops):
        raise InvalidArgumentError(f"cannot {what} {blob!r} in net {name!r}: nothing produces it "
                                   "and it is not fed")
    raise NotFoundError(f"cannot {what} {blob!r}: no blob of that name in net {name!r}")


def build_graph(ops: Sequence[OpDef], name: str, feeds: Mapping[str, TensorType],
                fetches: Sequence[str], targets: Sequence[str] = (),
                inputs: Mapping[str, TensorType] = ()) -> tuple[Graph, Lowered]:
    """Lower ``ops`` and set the graph's outputs (fetches) and targets.

    Unknown fetches raise NotFoundError; fetches the feeds cannot compute raise
    InvalidArgumentError naming the missing input.
    """
    blobs = known_blobs(ops)
    for f in feeds:
        if f not in blobs:
            raise NotFoundError(f"cannot feed {f!r}: no blob of that name in net {name!r}")
    lowered = lower(ops, name, feeds, inputs)
    graph = lowered.graph
    graph.outputs = [resolve(lowered, ops, name, f, "fetch") for f in fetches]
    graph.targets = list(dict.fromkeys(resolve(lowered, ops, name, t, "run target")[0] for t in targets))
    return graph, lowered


def optimize(graph: Graph, config=None, feeds: Sequence[str] = (), fetches: Sequence[str] = (),
             targets: Sequence[str] = (), ctx=None) -> Graph:
    """Run the PRE_PLACEMENT passes on ``graph`` in place; returns it.

    The pass options come from ``config`` (a SessionConfig or None) and the
    environment (see ``netjit.passes.options``); pass ``ctx`` (from
    ``netjit.passes.make_context``) to share one context with later phases.
    """
    from netjit.passes import Phase, make_context, run_phase
    if ctx is None:
        feeds = feeds or [graph.name_of_input(n) for n in graph.inputs]
        fetches = fetches or [graph.names(n)[k] or f"%{n}" for n, k in graph.outputs]
        ctx = make_context(config, feeds, fetches, targets)
    run_phase(graph, Phase.PRE_PLACEMENT, ctx)
    return graph


def compile_graph(graph: Graph, backend) -> object:
    """Emit an executable for an optimised graph."""
    return backend.compile(graph)
