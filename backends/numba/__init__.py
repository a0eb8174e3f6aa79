"""The numba backend: one generated, jitted function per segment.

``NumbaBackend().compile(graph)`` returns an executable (``backends.base``)
that runs the segment through generated Python source compiled with
``numba.njit(nogil=True)``: fused loop nests for elementwise ops and last-axis
reductions, BLAS for contractions, views for shape ops, host steps for host
and stateful ops. Compiled code is cached on disk (``cache``). A segment with an
op it cannot lower runs on the reference backend (``_on_host``). This package
imports numba only when a graph is compiled, so ``import netjit`` stays fast.
"""
from __future__ import annotations

import logging
import os

from netjit.compiler.ir import Graph
from netjit.errors import CompilationError

from .options import NumbaOptions

LOGGER = logging.getLogger("netjit.backends.numba")

__all__ = ["NumbaBackend", "NumbaOptions", "cache_stats"]


class NumbaBackend:
    """Backend ``"numba"``; keyword options are those of ``NumbaOptions``."""

    name = "numba"

    def __init__(self, **defaults):
        self.defaults = defaults

    def compile(self, graph: Graph, **options):
        """An executable for ``graph``; with ``tiered=True`` it returns at once."""
        opts = NumbaOptions.make(**{**self.defaults, **options})
        if not opts.tiered:
            return compile_now(graph, opts)
        # the reference tier reads ``graph`` now: numba must compile that graph, not
        # whatever the caller makes of it before the compile thread gets to it
        return _tiered(graph.copy(), opts, compile_now)

    def compile_deferred(self, graph: Graph, prepare, **options):
        """``compile`` for a graph whose passes have not run yet: ``prepare(graph)`` runs
        them in place and returns it. Tiered, the reference tier runs ``graph`` as it
        is and ``prepare`` runs on the compile thread, so the first call waits for neither."""
        opts = NumbaOptions.make(**{**self.defaults, **options})
        if not opts.tiered:
            return compile_now(prepare(graph), opts)
        return _tiered(graph, opts, lambda g, o: compile_now(prepare(g.copy()), o))

    def generate_source(self, graph: Graph, **options) -> str:
        """The generated module and wrapper source of ``graph`` (for dumps and tools)."""
        return _generate(graph, NumbaOptions.make(**{**self.defaults, **options})).readable_source()


def _tiered(graph: Graph, opts: NumbaOptions, compile_fn):
    """A TieredExecutable: the reference backend now, ``compile_fn(graph, opts)`` in the background.

    ``compile_fn`` must not change ``graph`` (segments are shown in run metadata);
    one that rewrites it copies it first, on the compile thread.
    """
    from ..reference import ReferenceBackend
    from .tiered import TieredExecutable, compile_pool
    start = lambda: compile_pool().submit(compile_fn, graph, opts)  # noqa: E731
    return TieredExecutable(ReferenceBackend().compile(graph), start, graph.name)


def _generate(graph: Graph, opts: NumbaOptions):
    from .codegen import generate
    private = graph.copy()
    for n in private.nodes():
        # placement reasons name blobs (and so the net); the cache key must not
        private.meta(n).pop("placement", None)
    try:
        return generate(private, opts)
    except NotImplementedError as exc:
        raise NoLowering(f"numba backend: segment {graph.name!r}: {exc}") from exc


class NoLowering(CompilationError):
    """A segment holds an op the numba backend cannot lower: a plugin's op without a
    numba kernel, or an op over a value of unknown rank (a Python op's output)."""


def compile_now(graph: Graph, opts: NumbaOptions):
    """Generate, compile (or load from the cache) and wrap ``graph``: natively when
    it qualifies (``backends.native``), else through numba."""
    if opts.native:
        from ..native import compile_native
        exe = compile_native(graph, opts)
        if exe is not None:
            return exe
    from .executable import NumbaExecutable, dump_source, load_compiled
    from .plain_errors import plain_error_messages
    plain_error_messages()
    try:
        gen = _generate(graph, opts)
    except NoLowering as exc:
        return _on_host(graph, exc)
    mod, key, hit = load_compiled(gen, opts, graph.name)
    if opts.dump_dir or os.environ.get("NETJIT_DUMP_DIR"):
        dump_source(gen, key, opts)
    return NumbaExecutable(graph, gen, mod, key, opts, cache_hit=hit)


def _on_host(graph: Graph, why: NoLowering):
    """The segment as a host-side one: the reference backend runs it, every call.

    Better than failing: a net whose Python op feeds compiled ops answered its
    first calls on the reference tier, then failed every call once the numba
    compile did. Run metadata shows the tier ("reference"); ``host_reason``
    says why.
    """
    from ..reference import ReferenceBackend
    LOGGER.info("%s; it runs on the reference backend", why)
    exe = ReferenceBackend().compile(graph)
    exe.tier = "reference"
    exe.cache_hit = None
    exe.host_reason = str(why)
    return exe


def cache_stats() -> dict:
    """Process-wide counters: memory_hits, disk_hits, misses, corrupt, numba_compiles, native_compiles."""
    from .cache import STATS
    return dict(STATS)
