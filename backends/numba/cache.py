"""The numba backend's cache entries (on ``common.cache``): what a key hashes, what an entry holds.

An entry holds the generated ``segment.py`` and numba's own cache files
(``__pycache__``). The key hashes the generated module source (which carries
every IR line of the final segment graph, after all passes), the kernels'
input types, the codegen options, the netjit backend sources and the versions
of netjit, numba, numpy and Python. Large constants are kernel arguments, not
code, so nets that differ only in weights share an entry. The signed manifest
(``common.cache``) covers the source and every file numba reads: its index
(``.nbi``) and data (``.nbc``) files, which are pickles. numba reads them only
from a private copy (``Stage``, ``entry_locator``), never from the entry.
"""
from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import weakref
from pathlib import Path
from typing import Optional

import numpy as np

from ..common import cache as store

_HERE = Path(__file__).parent
_COMMON = _HERE.parent / "common"
#: where an entry keeps numba's files
NUMBA_DIR = "__pycache__"


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


class Stage:
    """The private directory numba caches one segment module in (``entry_locator``).

    ``open`` fills it with the numba files of ``entry`` that its signed manifest
    covers, and only when the manifest's ``segment.py`` is the module about to
    run; ``publish`` copies what numba wrote into the entry, under a new signed
    manifest, when it changed and the cache directory can be written.
    """

    def __init__(self, entry: Optional[Path], module_source: str):
        self.entry, self.source = entry, module_source.encode()
        self.path = Path(tempfile.mkdtemp(prefix="netjit-numba-"))     # 0700
        self.published: dict = {}       # name -> SHA-256 of what the entry holds
        self.fresh = True               # the entry holds nothing valid (replace it whole)
        weakref.finalize(self, shutil.rmtree, str(self.path), True)

    @property
    def stamp(self) -> bytes:
        return hashlib.sha256(self.source).digest()

    @classmethod
    def open(cls, entry: Optional[Path], module_source: str) -> "Stage":
        stage = cls(entry, module_source)
        files = store.read_verified(entry) if entry is not None else None
        if files is not None and files.get("segment.py") != stage.source:
            store.STATS["corrupt"] += 1        # signed, but not this module: never loaded
            files = None
        for name, data in (files or {}).items():
            if name.startswith(NUMBA_DIR + "/"):
                (stage.path / Path(name).name).write_bytes(data)
        if files is not None:
            stage.published = {name: store.digest(data) for name, data in files.items()}
            stage.fresh = False
        return stage

    def publish(self) -> None:
        """Copy the stage into the entry (signed), if it changed and can be written."""
        if self.entry is None:
            return
        files = {"segment.py": self.source}
        files.update({f"{NUMBA_DIR}/{p.name}": p.read_bytes() for p in sorted(self.path.iterdir())
                      if p.suffix in (".nbi", ".nbc")})
        digests = {name: store.digest(data) for name, data in files.items()}
        if digests != self.published and store.save_entry(self.entry, files, fresh=self.fresh):
            self.published, self.fresh = digests, False

    def clear(self) -> None:
        """Empty the stage (an entry whose files numba could not load: compile afresh)."""
        for p in self.path.iterdir():
            p.unlink()
        self.published, self.fresh = {}, True
