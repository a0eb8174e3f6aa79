"""Cached segments as shared libraries, loaded with ``dlopen`` instead of LLVM.

Where a C compiler driver is installed (``cc``, ``gcc`` or ``clang``), the
object code LLVM emitted is also linked into ``segment.so``; a later process
loads that with ctypes and never imports llvmlite (30-45 ms of a warm start).
Without one, entries hold object code only and load through LLVM (``jit``).
Libraries are linked and loaded in private temporary files; the cache entry
holds a signed copy (``common.cache``).
"""
from __future__ import annotations

import ctypes
import os
import shutil
from pathlib import Path
from typing import Optional

#: loaded libraries stay loaded: executables hold addresses into them
_LOADED: list = []


def linker() -> Optional[str]:
    """The compiler driver that links shared objects here, or None."""
    if os.environ.get("NETJIT_NATIVE_LINK", "").strip() in ("0", "false", "off"):
        return None
    return next((p for p in map(shutil.which, ("cc", "gcc", "clang")) if p), None)


def link(obj: bytes, target: Path) -> bool:
    """Link ``obj`` into the shared library ``target`` (atomically); False if it cannot.

    Not loaded here: a process must never map a library that a later write to
    its entry could truncate (SIGBUS at exit). One that will not load (a cross
    compiler driver, a ``noexec`` cache) is dropped by the first process that
    tries it."""
    import subprocess          # compile time only: a warm start imports neither
    import tempfile
    driver = linker()
    if driver is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".link") as tmp:
        o_path, so_path = Path(tmp) / "segment.o", Path(tmp) / "segment.so"
        o_path.write_bytes(obj)
        try:
            subprocess.run([driver, "-shared", "-o", str(so_path), str(o_path), "-lm"],
                           check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return False
        os.replace(so_path, target)
    return True


def load(path: Path, symbols) -> list:
    """The addresses of ``symbols`` in the shared library at ``path``."""
    lib = ctypes.CDLL(str(path))
    _LOADED.append(lib)
    return [ctypes.cast(getattr(lib, symbol), ctypes.c_void_p).value for symbol in symbols]


def load_bytes(data: bytes, symbols) -> list:
    """``load`` of the library ``data`` (verified bytes of a cache entry), from a private
    copy: the entry's own file may have been replaced since it was verified, and
    ``dlopen`` runs a library's constructors. The copy is unlinked once mapped."""
    import tempfile
    fd, path = tempfile.mkstemp(prefix="netjit-", suffix=".so")     # mode 0600, this user's
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return load(Path(path), symbols)
    finally:
        os.unlink(path)
