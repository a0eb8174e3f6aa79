"""The on-disk and in-memory cache of compiled segment modules.

An entry is a directory ``<cache_dir>/<key[:2]>/<key>/`` holding the
generated ``segment.py`` and numba's own cache files (``__pycache__``). The
key hashes the generated module source (which carries every IR line of the
final segment graph, after all passes), the kernels' input types, the
codegen options, the netjit backend sources and the versions of netjit,
numba, numpy and Python. Large constants are kernel arguments, not code, so
nets that differ only in weights share an entry.

``manifest.json`` is written last (atomically) and lists a SHA-256 of every
file in the entry. An entry without a manifest is incomplete; one whose files
do not match it is corrupt: it is deleted and recompiled, never loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

STATS = {"memory_hits": 0, "disk_hits": 0, "misses": 0, "corrupt": 0, "numba_compiles": 0, "native_compiles": 0}
_MEMORY: dict = {}
_KEY_LOCKS: dict = {}
_LOCK = threading.RLock()
_SOURCE_HASHES: dict = {}


def source_hash(paths) -> str:
    """A hash of source files (names and contents), once per process per set:
    a code generator's change invalidates its entries."""
    key = tuple(sorted(str(p) for p in paths))
    if key not in _SOURCE_HASHES:
        h = hashlib.sha256()
        for p in map(Path, key):
            h.update(p.name.encode() + p.read_bytes())
        _SOURCE_HASHES[key] = h.hexdigest()
    return _SOURCE_HASHES[key]


def backend_source_hash() -> str:
    """A hash of this backend's own source files (their change invalidates entries)."""
    own = list(Path(__file__).parent.glob("*.py"))
    # generated code calls the packed GEMM by name: its interface is part of ours;
    # mathlib's helpers freeze the approximations' constants into the kernels
    backends = Path(__file__).parent.parent
    return source_hash(own + [backends / "native" / "gemm_ir.py", backends / "approx.py"])


def write_dump(text: str, key: str, options, suffix: str) -> str:
    """Write generated code where a person can read it (``options.dump_dir``,
    ``NETJIT_DUMP_DIR`` or the temp directory); returns the path."""
    folder = options.dump_dir or os.environ.get("NETJIT_DUMP_DIR") or tempfile.gettempdir()
    path = Path(folder) / f"netjit-segment-{key[:16]}{suffix}"
    write_atomic(path, text.encode())
    return str(path)


def versions() -> str:
    import numba
    from importlib.metadata import PackageNotFoundError, version
    try:
        netjit_version = version("netjit")
    except PackageNotFoundError:
        netjit_version = "dev"
    return f"netjit={netjit_version};numba={numba.__version__};numpy={np.__version__};python={sys.version}"


def entry_key(module_source: str, arg_types: list, codegen_key: str) -> str:
    h = hashlib.sha256()
    for part in (module_source, repr(arg_types), codegen_key, backend_source_hash(), versions()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def memory_get(key: str):
    with _LOCK:
        mod = _MEMORY.get(key)
        if mod is not None:
            STATS["memory_hits"] += 1
        return mod


def memory_put(key: str, module) -> None:
    with _LOCK:
        _MEMORY[key] = module


def key_lock(key: str) -> threading.Lock:
    """The lock a compile of ``key`` holds from its memory miss to its ``memory_put``:
    threads compiling one segment at once compile it once; the others wait and
    find it in memory. One lock per key ever compiled in this process."""
    with _LOCK:
        return _KEY_LOCKS.setdefault(key, threading.Lock())


def entry_dir(cache_dir: str, key: str) -> Path:
    return Path(cache_dir) / key[:2] / key


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(entry: Path) -> list:
    # numba rewrites its index (.nbi) when it adds an overload and checks it
    # itself; the source and the object code files (.nbc) are what we verify.
    return sorted(p for p in entry.rglob("*") if p.is_file() and (p.suffix == ".nbc" or p.name == "segment.py"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` so readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_manifest(entry: Path) -> None:
    files = {str(p.relative_to(entry)): _digest(p) for p in _files(entry)}
    write_atomic(entry / "manifest.json", json.dumps(files, sort_keys=True, indent=0).encode())


def check_entry(entry: Path) -> str:
    """"valid", "missing", "incomplete" (no manifest) or "corrupt"."""
    if not (entry / "segment.py").exists():
        return "missing"
    try:
        manifest = json.loads((entry / "manifest.json").read_text())
    except FileNotFoundError:
        return "incomplete"
    except (ValueError, OSError):
        return "corrupt"
    try:
        ok = all(_digest(entry / name) == digest for name, digest in manifest.items())
    except OSError:
        ok = False
    return "valid" if ok and "segment.py" in manifest else "corrupt"


def discard(entry: Path) -> None:
    shutil.rmtree(entry, ignore_errors=True)


def prepare_entry(entry: Path, module_source: str) -> bool:
    """Make ``entry`` hold ``module_source``; True if it is a valid (hit) entry."""
    state = check_entry(entry)
    if state == "valid":
        return True
    if state == "corrupt":
        STATS["corrupt"] += 1
        discard(entry)
    elif state == "incomplete":
        shutil.rmtree(entry / "__pycache__", ignore_errors=True)
    src = entry / "segment.py"
    if not src.exists() or src.read_text() != module_source:
        write_atomic(src, module_source.encode())
    return False
