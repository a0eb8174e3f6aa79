"""The numba backend: one generated, jitted function per segment.

``NumbaBackend().compile(graph)`` returns an executable (``backends.base``)
that runs the segment through generated Python source compiled with
``numba.njit(nogil=True)``: fused loop nests for elementwise ops and last-axis
reductions, BLAS for contractions, views for shape ops, host steps for host
and stateful ops. Compiled code is cached on disk (``cache``). A segment made
only of float elementwise ops goes to the native code generator instead
(``backends.native.compile_native``, a peer dispatch). A segment with an op
it cannot lower runs on the reference backend (``HostExecutable``). This
package imports numba only when a graph is compiled, so ``import netjit``
stays fast.
"""
from __future__ import annotations

import logging
import os

from netjit.compiler.ir import Graph
from netjit.compiler.ops import CORE_DTYPES, DTYPES
from netjit.errors import CompilationError

from ..base import Backend, Executable
from ..common.cache import STATS
from ..common.tiered import tiered
from ..native import compile_native
from ..reference import HostExecutable, ReferenceBackend
from .options import NumbaOptions

LOGGER = logging.getLogger("netjit.backends.numba")

__all__ = ["NumbaBackend", "NumbaOptions", "cache_stats"]


class NumbaBackend(Backend):
    """Backend ``"numba"``; keyword options are those of ``NumbaOptions``."""

    name = "numba"
    supports_deferral = True

    def __init__(self, **defaults):
        self.defaults = defaults

    def compile(self, graph: Graph, **options) -> Executable:
        """An executable for ``graph``; with ``tiered=True`` it returns at once."""
        opts = NumbaOptions.make(**{**self.defaults, **options})
        if not opts.tiered:
            return compile_now(graph, opts)
        # the reference tier reads ``graph`` now: numba must compile that graph, not
        # whatever the caller makes of it before the compile thread gets to it
        private = graph.copy()
        return tiered(ReferenceBackend().compile(private), lambda: compile_now(private, opts), graph.name)

    def compile_deferred(self, graph: Graph, prepare, **options) -> Executable:
        """``compile`` for a graph whose passes have not run yet: ``prepare(graph)`` runs
        them in place and returns it. Tiered, the reference tier runs ``graph`` as it
        is and ``prepare`` runs on the compile thread (on a copy: segments are shown in
        run metadata), so the first call waits for neither."""
        opts = NumbaOptions.make(**{**self.defaults, **options})
        if not opts.tiered:
            return compile_now(prepare(graph), opts)
        return tiered(ReferenceBackend().compile(graph), lambda: compile_now(prepare(graph.copy()), opts),
                      graph.name)

    def compiled_ops(self) -> frozenset:
        """Op classes the generated code computes (``lowering.compiled_ops``)."""
        # deferred: the lowering tables import numba (about 0.9 s)
        from .lowering import compiled_ops
        return compiled_ops()

    def generate_source(self, graph: Graph, **options) -> str:
        """The generated module and wrapper source of ``graph`` (for dumps and tools)."""
        return _generate(graph, NumbaOptions.make(**{**self.defaults, **options})).readable_source()


def _generate(graph: Graph, opts: NumbaOptions):
    # deferred: code generation imports numba (about 0.9 s); a native or cached segment never does
    from .codegen import generate
    _check_dtypes(graph)
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
    numba kernel, an op over a value of unknown rank (a Python op's output), or a
    value of a dtype the generated code does not compute (``_check_dtypes``)."""


def _check_dtypes(graph: Graph) -> None:
    """Refuse values of the ONNX-only dtypes (i8 ... u64, f16): the generated loops
    and kernels are written and tested for ``CORE_DTYPES`` (and host strings) only,
    and numba's f16 arithmetic is partial; such a segment runs on the reference backend."""
    for n in graph.nodes():
        for t in graph.types(n):
            if t.dtype not in CORE_DTYPES and t.dtype != DTYPES["str"]:
                raise NoLowering(f"numba backend: segment {graph.name!r}: {graph.op(n).name} "
                                 f"has a value of type {t}, a dtype it does not compile")


def _on_host(why: NoLowering, graph: Graph) -> Executable:
    """The segment runs on the reference backend, every call; ``host_reason`` says why."""
    LOGGER.info("%s; it runs on the reference backend", why)
    return HostExecutable(graph, str(why))


def compile_now(graph: Graph, opts: NumbaOptions) -> Executable:
    """Generate, compile (or load from the cache) and wrap ``graph``: natively when
    it qualifies (``backends.native``), else through numba."""
    try:
        _check_dtypes(graph)
    except NoLowering as exc:
        return _on_host(exc, graph)
    if opts.native:
        exe = compile_native(graph, opts)
        if exe is not None:
            return exe
    # deferred: these import numba (about 0.9 s)
    from .executable import NumbaExecutable, dump_source, load_compiled
    from .plain_errors import plain_error_messages
    plain_error_messages()
    try:
        gen = _generate(graph, opts)
    except NoLowering as exc:
        return _on_host(exc, graph)
    mod, key, hit = load_compiled(gen, opts, graph.name)
    if opts.dump_dir or os.environ.get("NETJIT_DUMP_DIR"):
        dump_source(gen, key, opts)
    return NumbaExecutable(graph, gen, mod, key, opts, cache_hit=hit)


def cache_stats() -> dict:
    """Process-wide counters: memory_hits, disk_hits, misses, corrupt, numba_compiles, native_compiles."""
    return dict(STATS)
