"""Compile generated segments with numba and wrap them as executables."""
from __future__ import annotations

import os
import sys
import types as pytypes
from typing import Optional

import numba
import numpy as np

from netjit.compiler.segments import describe_graph
from netjit.errors import CompilationError, InvalidArgumentError, NetjitError

from ..base import DictStateStore, Executable
from ..common import cache as store
from ..reference import ReferenceBackend, op_failure
from . import cache, entry_locator
from .codegen import Generated
from .options import NumbaOptions
from .threads import THREADS

_RUNTIME_ERRORS = (ValueError, ZeroDivisionError, IndexError, FloatingPointError)


def _prepare_threading() -> None:
    # libgomp's default spin-wait (300000) after a prange region starves OpenBLAS's
    # threads on small machines (a 64x784 GEMM ran 12x slower). Too short a spin
    # puts the workers to sleep between the parallel regions of one kernel: W2's
    # six (two per packed product) took 1.61 ms at 1000, 1.49 ms at 30000
    # (medians of four processes each), and its BLAS form was no slower at 30000
    # (1.66 against 1.83 ms). Read by libgomp when numba first loads it.
    os.environ.setdefault("GOMP_SPINCOUNT", "30000")


def _exec_module(name: str, source: str, stage: Optional[cache.Stage]):
    """Execute ``source`` as module ``name``: with ``stage``, its kernels cache in it
    (``entry_locator``); without, they do not cache. Executed from the string netjit
    generated, never from a file another writer could change."""
    mod = pytypes.ModuleType(name)
    if stage is None:
        source = source.replace("cache=True, ", "")
        filename = f"<netjit {name}>"
    else:
        mod.__dict__[entry_locator.STAGE_GLOBAL] = str(stage.path)
        mod.__dict__[entry_locator.STAMP_GLOBAL] = stage.stamp
        filename = str((stage.entry or stage.path) / "segment.py")     # tracebacks name the entry's copy
        sys.modules[name] = mod        # numba's cache pickles refer to the module by name
    mod.__netjit_cache_stage__ = stage
    exec(compile(source, filename, "exec"), mod.__dict__)
    return mod


def _signature(arg_types):
    return tuple(numba.types.Array(numba.from_dtype(dt), rank, "C", readonly=ro)
                 for dt, rank, ro in arg_types)


def dump_source(gen: Generated, key: str, options: NumbaOptions) -> Optional[str]:
    """Write the generated source where a person can read it; returns the path."""
    return store.write_dump(gen.readable_source(), key, options, ".py")


def load_compiled(gen: Generated, options: NumbaOptions, graph_name: str):
    """``(module, key, hit)``: the module of ``gen`` with every serial kernel compiled,
    from the memory or disk cache when possible (``hit``).

    The key hashes the module text, which names no graph or blob (see
    ``codegen._Names``): identical segments of differently named nets share it.
    """
    arg_types = gen.arg_types
    key = cache.entry_key(gen.module_source, arg_types, options.codegen_key() + f";cache={options.cache}")
    mod = store.memory_get(key)
    if mod is not None:
        return mod, key, True
    with store.key_lock(key):
        mod = store.memory_get(key)          # compiled by another thread meanwhile
        if mod is not None:
            return mod, key, True
        return _load_compiled_locked(gen, options, graph_name, key)


def _load_compiled_locked(gen: Generated, options: NumbaOptions, graph_name: str, key: str):
    """``load_compiled`` past a memory miss, under the key's lock."""
    arg_types = gen.arg_types
    _prepare_threading()
    name = f"{entry_locator.SEGMENT_MODULE_PREFIX}{key[:20]}"
    root = options.resolved_cache_dir() if options.cache else None
    staged = root is not None and entry_locator.install() and store.usable(root)
    stage = cache.Stage.open(store.entry_dir(root, key), gen.module_source) if staged else None
    try:
        mod, hits = _load(name, stage, gen, arg_types)
    except Exception as exc:
        if stage is None or stage.fresh:
            raise _compilation_error(exc, gen, key, options, graph_name) from exc
        store.STATS["corrupt"] += 1      # verified files numba cannot load: compile afresh, once
        stage.clear()
        try:
            mod, hits = _load(name, stage, gen, arg_types)
        except Exception as exc2:
            raise _compilation_error(exc2, gen, key, options, graph_name) from exc2
    if stage is not None:
        stage.publish()
    store.STATS["disk_hits" if hits else "misses"] += 1
    store.memory_put(key, mod)
    return mod, key, hits


def _load(name, stage, gen, arg_types):
    mod = _exec_module(name, gen.module_source, stage)
    return mod, _compile_kernels(mod, gen, arg_types)


def _compile_kernels(mod, gen: Generated, arg_types: list) -> bool:
    """Compile each serial kernel for its static signature; True if all came from disk."""
    all_hit = True
    for name, sig_types in zip(gen.kernels, arg_types):
        disp = getattr(mod, name)
        disp.compile(_signature(sig_types))
        hit = sum(disp.stats.cache_hits.values()) > 0
        if not hit:
            store.STATS["numba_compiles"] += 1
        all_hit = all_hit and hit
    return all_hit


def _compilation_error(exc, gen, key, options, graph_name) -> CompilationError:
    path = dump_source(gen, key, options)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    ops = ", ".join(gen.ops[:12]) + (", ..." if len(gen.ops) > 12 else "")
    return CompilationError(f"numba backend: segment {graph_name!r} (ops: {ops}) failed to compile: "
                            f"{type(exc).__name__}: {first}; generated source: {path or 'not written'}")


class _LazyParallel:
    """Compiles a prange variant on its first call, then publishes the cache stage."""

    def __init__(self, disp, wglobals: dict, name: str, stage):
        self.disp, self.wglobals, self.name, self.stage = disp, wglobals, name, stage

    def __call__(self, *args):
        out = self.disp(*args)
        self.wglobals[self.name] = self.disp
        if self.stage is not None:
            self.stage.publish()
        return out


class _ScratchState:
    """Reads a state store's values as copies; writes stay here."""

    def __init__(self, state):
        self.state, self.values = state, {}

    def read(self, key, initial):
        if key not in self.values:
            real = self.state.read(key, initial) if self.state is not None else initial
            self.values[key] = np.array(real, copy=True)
        return self.values[key]

    def write(self, key, value):
        self.values[key] = value


class NumbaExecutable(Executable):
    """A compiled segment: ``__call__(inputs, state)`` runs the generated wrapper."""

    tier = "numba"

    def __init__(self, graph, gen: Generated, mod, key: str, options: NumbaOptions, cache_hit: bool = False):
        self.name = graph.name
        self.input_names = tuple(graph.name_of_input(n) for n in graph.inputs)
        self.module_source = gen.module_source       # exactly what numba compiled (canonical names)
        self.key = key
        #: True when the compiled module came from the memory or disk cache
        self.cache_hit = bool(cache_hit)
        self._gen = gen
        self._graph = graph               # for error reports only (``failing_op``)
        self.run = _build_wrapper(gen, mod, options, self)

    @property
    def fast_call(self):
        """``run`` itself: hot paths call it without the ``__call__`` frame."""
        return self.run

    def failing_op(self, inputs, state):
        """``(op, blob label, error)`` of the op a failed call failed in, or None.

        Error path only: the compiled code knows no op boundaries, so the
        segment's graph runs again on the reference backend, with a scratch
        copy of the state so that stateful ops do not apply twice.
        """
        try:
            return ReferenceBackend().compile(self._graph).locate_failure(inputs, _ScratchState(state))
        except Exception:  # noqa: BLE001 - a report must never hide the original error
            return None

    @property
    def source(self) -> str:
        """The module source with readable names (the segment's, the blobs')."""
        return self._gen.readable(self._gen.module_source)

    @property
    def wrapper_source(self) -> str:
        return self._gen.readable(self._gen.wrapper_source)

    def __call__(self, inputs, state=None):
        return self.run(inputs, state)

    def __repr__(self) -> str:
        return f"<NumbaExecutable {self.name!r} key={self.key[:12]}>"


def _build_wrapper(gen: Generated, mod, options: NumbaOptions, exe):
    g = dict(gen.wrapper_globals)
    g.update(np=np, DictStateStore=DictStateStore, PARALLEL_MIN_SIZE=options.parallel_min_size, THREADS=THREADS)
    for name in gen.kernels:
        g[name] = getattr(mod, name)
    for name in gen.parallel_kernels:
        if name:
            disp = getattr(mod, name)
            g[name] = disp if disp.signatures else _LazyParallel(disp, g, name, mod.__netjit_cache_stage__)

    def bad_arity(n):
        return InvalidArgumentError(f"segment {exe.name!r}: expected {len(exe.input_names)} inputs "
                                    f"{list(exe.input_names)}, got {n}")

    def host_call(label, fn):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - a host op's failure, as on the reference tier
            raise op_failure(label, describe_graph(exe.name), exc) from exc

    def runtime_error(exc, inputs, state):
        found = exe.failing_op(inputs, state)
        if found is None:
            return InvalidArgumentError(f"segment {exe.name!r} failed at run time: {exc}")
        op, label, ref_exc = found
        return InvalidArgumentError(f"{op.name} {label!r} in segment {exe.name!r} failed at run time: {exc} "
                                    f"(the reference backend: {ref_exc})")

    g.update(bad_arity=bad_arity, host_call=host_call, runtime_error=runtime_error,
             RUNTIME_ERRORS=_RUNTIME_ERRORS, NETJIT_ERRORS=NetjitError)
    exec(compile(gen.wrapper_source, f"<netjit wrapper {exe.name}>", "exec"), g)
    return g["run"]
