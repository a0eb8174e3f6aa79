"""The packed SGEMM kernel (``gemm_ir``): packing, and the library that holds it.

The kernel is one fixed function per host, not per segment: it is compiled
once and cached like a segment (same entry format, keyed by its IR source and
the host), then its address is registered with LLVM's process-wide symbol
table, where numba-compiled segments find it by name (``register``).
"""
from __future__ import annotations

import ctypes
import hashlib
import threading
from pathlib import Path
from typing import Optional

import numpy as np

from netjit.version import __version__ as netjit_version

from ..common import cache, gemm_abi
from . import gemm_ir, host
from .entry import from_disk, write_entry

_LOCK = threading.Lock()
_STATE: dict = {}
#: how this process got the kernel: compiled it, or loaded a cache entry
STATS = {"compiles": 0, "disk_loads": 0}


def lanes() -> int:
    """Floats per vector on this host (8 with AVX, else 4)."""
    return host.vector_bytes() // 4


def panel_width() -> int:
    """Columns per packed panel: two vectors."""
    return 2 * lanes()


def pack(w: np.ndarray, trans: bool = False) -> np.ndarray:
    """B = ``w`` (K x N), or ``w.T`` when ``trans``, as float32 panels of shape
    (ceil(N / NR), K, NR): ``packed[p, k]`` holds B[k, p*NR : p*NR + NR],
    zero-padded past N."""
    b = np.asarray(w, np.float32)
    b = b.T if trans else b
    k, n = b.shape
    nr = panel_width()
    whole, rest = divmod(n, nr)
    out = np.zeros((whole + (rest > 0), k, nr), np.float32)
    out[:whole] = b[:, :whole * nr].reshape(k, whole, nr).transpose(1, 0, 2)
    if rest:
        out[whole, :, :rest] = b[:, whole * nr:]
    return out


def register(cache_dir: Optional[str]) -> dict:
    """Make the kernel library's functions (``gemm_ir``'s product, A packing and thread
    flag) resolvable by LLVM in this process, once; their addresses by name.

    Loads the library from ``cache_dir`` (None: no disk cache) or compiles it
    there first. Raises whatever compiling or loading raises."""
    with _LOCK:
        if "addresses" not in _STATE:
            import llvmlite.binding as llvm      # deferred: 30-45 ms, only when products are packed
            addresses = _load(cache_dir)
            for name, address in addresses.items():
                llvm.add_symbol(name, address)
            _STATE["addresses"] = addresses
            _apply_threads()
        return _STATE["addresses"]


def set_threads(ok: bool) -> None:
    """Let packed products use threads, or not (a forked child, a thread-unsafe
    layer); the library, once registered, keeps the latest choice."""
    _STATE["threads"] = bool(ok)
    _apply_threads()


def _apply_threads() -> None:
    addresses = _STATE.get("addresses")
    if addresses is not None:
        ok = _STATE.get("threads", True)
        ctypes.CFUNCTYPE(None, ctypes.c_int32)(addresses[gemm_abi.SET_THREADS])(1 if ok else 0)


def _key() -> str:
    h = hashlib.sha256()
    for part in ("packed-sgemm", cache.source_hash([Path(gemm_ir.__file__), Path(gemm_abi.__file__)]), str(lanes()), host.identity(),
                 netjit_version):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def _load(cache_dir: Optional[str]) -> dict:
    from . import jit         # deferred: llvmlite's binding (30-45 ms), only to compile or load
    key = _key()
    entry = cache.entry_dir(cache_dir, key) if cache_dir is not None and cache.usable(cache_dir) else None
    names = [gemm_abi.SYMBOL, gemm_abi.PACK_A, gemm_abi.THREADS_OK, gemm_abi.SET_THREADS]
    found = from_disk(entry, names) if entry is not None else None
    if found is not None:
        STATS["disk_loads"] += 1
        return dict(zip(names, found[0]))
    text = gemm_ir.module_ir(lanes())
    obj = jit.compile_ir(text)
    STATS["compiles"] += 1
    if entry is not None:
        write_entry(entry, text, obj, (np.zeros(0, np.float32), np.zeros(0, np.float64)))
    return dict(zip(names, jit.load_many(obj, names)))
