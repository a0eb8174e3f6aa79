"""The native code generator: elementwise segments straight to LLVM IR, without numba.

The numba backend hands it every segment made only of elementwise ops over
float32/float64 (``plan``); the rest go through numba as before. It writes
explicitly vectorised IR with llvmlite (``emit``, ``lower``, ``vmath``),
compiles it to object code and caches that on disk beside numba's entries.
A process that finds its segments in the cache never imports numba: loading
one costs milliseconds, where numba's import and set-up alone take about
0.9 s. Compiling is faster too: no numba typing, and no LLVM loop
vectoriser, whose cost grows with the square of the loop body.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Optional

import numpy as np

from netjit.compiler.ir import Graph
from netjit.compiler.ops import Const
from netjit.errors import CompilationError

from ..numba import cache
from .executable import NativeExecutable

_SOURCE_HASH: list = []
_PREFETCHED: list = []
_FILES = ("segment.ll", "segment.o", "consts.f32", "consts.f64")


def prefetch() -> None:
    """Start loading LLVM on a thread, once per process.

    llvmlite's import costs 25-45 ms, most of it loading its shared library,
    which runs without the GIL: started when a backend is created, it overlaps
    with lowering and the passes instead of adding to the first compile (W6
    from a warm cache).
    """
    if "llvmlite.binding" not in sys.modules and not _PREFETCHED:
        _PREFETCHED.append(threading.Thread(target=_load_llvm, name="netjit-llvm-load", daemon=True))
        _PREFETCHED[0].start()


def _load_llvm() -> None:
    try:
        from . import jit
        jit.vector_bytes()           # imports llvmlite and sets up the target machine
    except Exception:  # noqa: BLE001 - the compile that needs LLVM reports its own error
        pass


def compile_native(graph: Graph, opts) -> Optional[NativeExecutable]:
    """A native executable for ``graph``, or None when the segment does not qualify
    (``plan`` says why). ``opts`` are the numba backend's ``NumbaOptions``."""
    from . import jit
    from .plan import plan
    layout, consts, _reason = plan(graph, jit.vector_bytes(), opts.native_min_size)
    if layout is None:
        return None
    key = _key(graph, layout, opts.fastmath, jit.host())
    symbol = f"netjit_{key[:40]}"
    entry = cache.entry_dir(opts.resolved_cache_dir(), key) if opts.cache else None
    loaded = cache.memory_get(key)
    hit = loaded is not None
    if loaded is None:
        found = _read_entry(entry) if entry is not None else None
        hit = found is not None
        if not hit:
            from .lower import unsupported
            if unsupported(graph):
                return None
        obj, tables = found if hit else _compile(graph, layout, consts, opts, key, symbol, entry)
        cache.STATS["disk_hits" if hit else "misses"] += 1
        loaded = jit.load(obj, symbol), tables
        cache.memory_put(key, loaded)
    address, tables = loaded
    exe = NativeExecutable(graph, layout, lambda: _source(graph, layout, consts, opts, symbol, entry), key,
                           address, tables, opts.parallel_min_size, opts.parallel, hit)
    if opts.dump_dir or os.environ.get("NETJIT_DUMP_DIR"):
        _dump(exe.source, key, opts)
    return exe


def _ops(graph: Graph) -> str:
    names = [graph.op(n).name for n in graph.nodes() if graph.op(n).kind.name != "SOURCE"]
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")


def _source(graph, layout, consts, opts, symbol, entry) -> str:
    """The segment's IR text: from its cache entry, else emitted again."""
    if entry is not None:
        try:
            return (entry / "segment.ll").read_text()
        except OSError:
            pass
    from .emit import emit
    return emit(graph, layout, opts.fastmath, consts, symbol)[0]


def _compile(graph, layout, consts, opts, key, symbol, entry) -> tuple:
    """``(object code, constant tables)`` of the segment; writes its cache entry.
    Errors name the segment."""
    from . import jit
    from .emit import emit
    try:
        text, tables = emit(graph, layout, opts.fastmath, consts, symbol)
    except Exception as exc:  # noqa: BLE001 - an emitter bug must name the segment, not crash deep inside
        raise CompilationError(f"native code generator: segment {graph.name!r} (ops: {_ops(graph)}) "
                               f"could not be emitted: {type(exc).__name__}: {exc}") from exc
    try:
        obj = jit.compile_ir(text)
    except Exception as exc:  # noqa: BLE001 - LLVM's errors become ours, with the IR dumped
        path = _dump(text, key, opts)
        raise CompilationError(f"native code generator: segment {graph.name!r} (ops: {_ops(graph)}) "
                               f"failed to compile: {type(exc).__name__}: {exc}; generated IR: {path}") from exc
    cache.STATS["native_compiles"] += 1
    if entry is not None:
        _write_entry(entry, text, obj, tables)
    return obj, tables


def _read_entry(entry: Path) -> Optional[tuple]:
    """The entry's object code and constant tables, or None; a corrupt entry is
    deleted (and recompiled)."""
    try:
        manifest = json.loads((entry / "manifest.json").read_text())
    except FileNotFoundError:
        return None
    except (ValueError, OSError):
        manifest = None
    try:
        data = {name: (entry / name).read_bytes() for name in _FILES}
    except OSError:
        data = None
    if (manifest is None or data is None or set(manifest) != set(_FILES)
            or any(hashlib.sha256(data[name]).hexdigest() != manifest[name] for name in _FILES)):
        cache.STATS["corrupt"] += 1
        cache.discard(entry)
        return None
    return data["segment.o"], (np.frombuffer(data["consts.f32"], np.float32),
                               np.frombuffer(data["consts.f64"], np.float64))


def _write_entry(entry: Path, text: str, obj: bytes, tables: tuple) -> None:
    files = {"segment.ll": text.encode(), "segment.o": obj,
             "consts.f32": tables[0].tobytes(), "consts.f64": tables[1].tobytes()}
    for name, data in files.items():
        cache.write_atomic(entry / name, data)
    # the manifest last: an entry without one is incomplete, never loaded
    manifest = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    cache.write_atomic(entry / "manifest.json", json.dumps(manifest, sort_keys=True).encode())


def _key(graph: Graph, layout, fastmath: int, host: str) -> str:
    """A hash of the final segment graph (ops, attributes, types, constants by content;
    no names or devices), its argument layout and fast-math level, the host, and
    this code generator's sources: emitting the IR only to hash it would cost a
    cache hit as much as the compile's Python half."""
    order = graph.nodes()
    pos = {n: i for i, n in enumerate(order)}
    h = hashlib.sha256()
    for n in order:
        op = graph.op(n)
        text = op.value.digest if isinstance(op, Const) else repr(op)
        h.update(f"{op.name}:{text}:{graph.types(n)}:{[(pos[u], o) for u, o in graph.inputs_of(n)]}\n".encode())
    io = f"in={[pos[n] for n in graph.inputs]};out={[(pos[n], o) for n, o in graph.outputs]}"
    for part in (io, repr(layout.args), repr(layout.out_dtypes), f"lanes={layout.lanes};fastmath={fastmath}",
                 host, _source_hash(), _netjit_version()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _source_hash() -> str:
    """A hash of the code generator's sources: a change to them invalidates its entries."""
    if not _SOURCE_HASH:
        h = hashlib.sha256()
        here = Path(__file__).parent
        for p in sorted(here.glob("*.py")) + [here.parent / "approx.py"]:
            h.update(p.name.encode() + p.read_bytes())
        _SOURCE_HASH.append(h.hexdigest())
    return _SOURCE_HASH[0]


def _netjit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("netjit")
    except PackageNotFoundError:
        return "dev"


def _dump(text: str, key: str, opts) -> str:
    folder = opts.dump_dir or os.environ.get("NETJIT_DUMP_DIR") or tempfile.gettempdir()
    path = Path(folder) / f"netjit-segment-{key[:16]}.ll"
    cache.write_atomic(path, text.encode())
    return str(path)
