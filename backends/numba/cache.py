"""The numba backend's cache entries (on ``common.cache``): what a key hashes, what an entry holds.

An entry holds the generated ``segment.py`` and numba's own cache files
(``__pycache__``). The key hashes the generated module source (which carries
every IR line of the final segment graph, after all passes), the kernels'
input types, the codegen options, the netjit backend sources and the versions
of netjit, numba, numpy and Python. Large constants are kernel arguments, not
code, so nets that differ only in weights share an entry. The manifest covers
the source and numba's object code files (``common.cache``).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from ..common import cache as store

_HERE = Path(__file__).parent
_COMMON = _HERE.parent / "common"


def backend_source_hash() -> str:
    """A hash of this backend's own source files (their change invalidates entries)."""
    # generated code calls the packed GEMM by its ABI; mathlib's helpers freeze the
    # approximations' constants into the kernels
    return store.source_hash(list(_HERE.glob("*.py")) + [_COMMON / "gemm_abi.py", _COMMON / "approx.py",
                                                          _COMMON / "fastmath.py"])


def versions() -> str:
    import numba          # deferred: numba's import costs about 0.9 s, and this module loads without it
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


def _files(entry: Path) -> list:
    # numba rewrites its index (.nbi) when it adds an overload and checks it
    # itself; the source and the object code files (.nbc) are what we verify.
    return sorted(p for p in entry.rglob("*") if p.is_file() and (p.suffix == ".nbc" or p.name == "segment.py"))


def write_manifest(entry: Path) -> None:
    store.write_manifest(entry, {str(p.relative_to(entry)): p.read_bytes() for p in _files(entry)})


def check_entry(entry: Path) -> str:
    """"valid", "missing", "incomplete" (no manifest) or "corrupt"."""
    if not (entry / "segment.py").exists():
        return "missing"
    try:
        manifest = store.read_manifest(entry)
    except (ValueError, OSError):
        return "corrupt"
    if manifest is None:
        return "incomplete"
    try:
        ok = all(store.digest((entry / name).read_bytes()) == d for name, d in manifest.items())
    except OSError:
        ok = False
    return "valid" if ok and "segment.py" in manifest else "corrupt"


def prepare_entry(entry: Path, module_source: str) -> bool:
    """Make ``entry`` hold ``module_source``; True if it is a valid (hit) entry."""
    state = check_entry(entry)
    if state == "valid":
        return True
    if state == "corrupt":
        store.STATS["corrupt"] += 1
        store.discard(entry)
    elif state == "incomplete":
        store.discard(entry / "__pycache__")
    src = entry / "segment.py"
    if not src.exists() or src.read_text() != module_source:
        store.write_atomic(src, module_source.encode())
    return False
