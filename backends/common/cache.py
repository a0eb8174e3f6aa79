"""The compile cache both compiled backends share: entry folders, manifests, memory, locks.

An entry is a directory ``<cache_dir>/<key[:2]>/<key>/``. What goes in it and
what its key hashes is the backend's business (``numba.cache``: the generated
module and numba's object files; ``native.entry``: LLVM IR, object code and a
shared library); this module holds what they have in common:

* ``manifest.json``, written last (atomically), lists a SHA-256 of every file
  the backend verifies. An entry without one is incomplete; one whose files do
  not match it is corrupt: deleted and recompiled, never loaded.
* the process's memory cache of loaded entries, and one lock per key so that
  threads compiling one segment at once compile it once;
* ``STATS``, the process-wide counters behind ``numba.cache_stats()``.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Mapping, Optional

STATS = {"memory_hits": 0, "disk_hits": 0, "misses": 0, "corrupt": 0, "numba_compiles": 0, "native_compiles": 0}
_MEMORY: dict = {}
_KEY_LOCKS: dict = {}
_LOCK = threading.RLock()
_SOURCE_HASHES: dict = {}

MANIFEST = "manifest.json"


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


def entry_dir(cache_dir: str, key: str) -> Path:
    return Path(cache_dir) / key[:2] / key


def memory_get(key: str):
    with _LOCK:
        found = _MEMORY.get(key)
        if found is not None:
            STATS["memory_hits"] += 1
        return found


def memory_put(key: str, value) -> None:
    with _LOCK:
        _MEMORY[key] = value


def memory_forget(key: str) -> None:
    """Drop ``key`` from the memory cache (tests: make the next compile go to disk)."""
    with _LOCK:
        _MEMORY.pop(key, None)


def key_lock(key: str) -> threading.Lock:
    """The lock a compile of ``key`` holds from its memory miss to its ``memory_put``:
    threads compiling one segment at once compile it once; the others wait and
    find it in memory. One lock per key ever compiled in this process."""
    with _LOCK:
        return _KEY_LOCKS.setdefault(key, threading.Lock())


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def write_manifest(entry: Path, files: Mapping[str, bytes]) -> None:
    """Write ``entry``'s manifest of ``files`` (name relative to the entry -> contents);
    write it after the files themselves: an entry without one is never loaded."""
    manifest = {name: digest(data) for name, data in files.items()}
    write_atomic(entry / MANIFEST, json.dumps(manifest, sort_keys=True).encode())


def read_manifest(entry: Path) -> Optional[dict]:
    """The manifest (name -> SHA-256); None when there is none. Raises ValueError for
    an unreadable one (a corrupt entry) and OSError when the entry cannot be read."""
    try:
        manifest = json.loads((entry / MANIFEST).read_bytes())
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not isinstance(manifest, dict):
        raise ValueError(f"{entry / MANIFEST}: not a manifest")
    return manifest


def discard(entry: Path) -> None:
    shutil.rmtree(entry, ignore_errors=True)


def write_dump(text: str, key: str, options, suffix: str) -> str:
    """Write generated code where a person can read it (``options.dump_dir``,
    ``NETJIT_DUMP_DIR`` or the temp directory); returns the path."""
    folder = options.dump_dir or os.environ.get("NETJIT_DUMP_DIR") or tempfile.gettempdir()
    path = Path(folder) / f"netjit-segment-{key[:16]}{suffix}"
    write_atomic(path, text.encode())
    return str(path)
