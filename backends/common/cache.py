"""The compile cache both compiled backends share: entry folders, manifests, memory, locks.

An entry is a directory ``<cache_dir>/<key[:2]>/<key>/``. What goes in it and
what its key hashes is the backend's business (``numba.cache``: the generated
module and numba's object files; ``native.entry``: LLVM IR, object code and a
shared library); this module holds what they have in common:

* ``manifest.json``, written last (atomically), lists a SHA-256 of every file
  the backend loads, signed with this user's key (``cache_trust``). An entry
  without one is incomplete; one whose manifest does not verify, or whose
  files do not match it, is corrupt: recompiled, never loaded, and replaced
  where the directory can be written. A directory that cannot be written is
  still read; entries it lacks are compiled in memory (one warning).
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

from . import cache_trust as trust

STATS = {"memory_hits": 0, "disk_hits": 0, "misses": 0, "corrupt": 0, "numba_compiles": 0, "native_compiles": 0}
_MEMORY: dict = {}
_KEY_LOCKS: dict = {}
_LOCK = threading.RLock()
_SOURCE_HASHES: dict = {}

MANIFEST = "manifest.json"
MANIFEST_VERSION = 2


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


def usable(cache_dir: str) -> bool:
    """Whether the disk cache at ``cache_dir`` may be used at all in this process: False
    without a usable key (``cache_trust``). Probes once whether it can be written,
    so that a read-only cache warns once even when every segment is found in it."""
    if trust.signing_key() is None:
        return False
    trust.writable(cache_dir)
    return True


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
    """Write ``entry``'s signed manifest of ``files`` (name relative to the entry -> contents);
    write it after the files themselves: an entry without one is never loaded.
    Raises OSError (also when there is no usable key: nothing to sign with)."""
    key = trust.signing_key()
    if key is None:
        raise PermissionError(f"no usable cache key ({trust.key_file()})")
    digests = {name: digest(data) for name, data in files.items()}
    manifest = {"version": MANIFEST_VERSION, "files": digests, "hmac": trust.mac(key, entry.name, digests)}
    write_atomic(entry / MANIFEST, json.dumps(manifest, sort_keys=True, indent=1).encode())


def read_verified(entry: Path) -> Optional[dict]:
    """The files (name -> bytes) of ``entry`` as its signed manifest lists them, or None.

    None for a missing entry, and for one that cannot be read (permissions, I/O:
    a miss, left alone). An entry whose manifest does not verify under this
    user's key, or whose files do not match it, is corrupt: counted, deleted
    when the directory is writable, never loaded. Only the returned bytes are
    verified: load those, not the files again (another writer may have
    replaced them since)."""
    key = trust.signing_key()
    if key is None:
        return None
    try:
        raw = (entry / MANIFEST).read_bytes()
    except OSError:
        return None
    try:
        files = _verified_files(entry, key, raw)
    except FileNotFoundError:          # listed but gone: damaged
        files = None
    except OSError:
        return None
    if files is None:
        STATS["corrupt"] += 1
        if trust.writable(entry.parent.parent):
            discard(entry)
    return files


def _verified_files(entry: Path, key: bytes, raw: bytes) -> Optional[dict]:
    try:
        manifest = json.loads(raw)
        digests, signature = manifest["files"], manifest["hmac"]
        ok = manifest.get("version") == MANIFEST_VERSION and isinstance(digests, dict)
    except (ValueError, TypeError, KeyError):
        return None
    if not ok or not trust.verifies(key, entry.name, digests, signature):
        return None
    if any(Path(name).is_absolute() or ".." in Path(name).parts for name in digests):
        return None
    files = {name: (entry / name).read_bytes() for name in digests}
    return files if all(digest(files[name]) == d for name, d in digests.items()) else None


def save_entry(entry: Path, files: Mapping[str, bytes], fresh: bool = False) -> bool:
    """Write ``files`` into ``entry``, then their signed manifest; False when the cache
    directory cannot be written (it warns once and is not tried again in this
    process). ``fresh``: delete what the entry held first."""
    root = entry.parent.parent
    if trust.signing_key() is None or not trust.writable(root):
        return False
    try:
        if fresh:
            discard(entry)
        for name, data in files.items():
            write_atomic(entry / name, data)
        write_manifest(entry, files)          # last: an entry without one is never loaded
    except OSError as exc:
        trust.mark_unwritable(root, exc)
        return False
    return True


def discard(entry: Path) -> None:
    shutil.rmtree(entry, ignore_errors=True)


def write_dump(text: str, key: str, options, suffix: str) -> Optional[str]:
    """Write generated code where a person can read it (``options.dump_dir``,
    ``NETJIT_DUMP_DIR`` or the temp directory); returns the path, or None when the
    folder cannot be written (warned once per folder)."""
    folder = options.dump_dir or os.environ.get("NETJIT_DUMP_DIR") or tempfile.gettempdir()
    path = Path(folder) / f"netjit-segment-{key[:16]}{suffix}"
    try:
        write_atomic(path, text.encode())
    except OSError as exc:
        trust.warn_once(("dump", os.path.abspath(folder)),
                        f"netjit: generated code cannot be dumped to {folder} ({exc})")
        return None
    return str(path)
