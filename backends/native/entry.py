"""A native cache entry (on ``common.cache``): LLVM IR, object code, constants, shared library.

An entry holds ``segment.ll``, ``segment.o``, the constant tables
``consts.f32``/``consts.f64`` and, where a C compiler driver links one,
``segment.so``; its manifest lists them all. Segments and the packed GEMM
library use the same format.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

from ..common import cache as store
from ..common import cache_trust as trust
from . import link

FILES = ("segment.ll", "segment.o", "consts.f32", "consts.f64")     # and segment.so where linked


def from_disk(entry: Path, symbols: list) -> Optional[tuple]:
    """``([addresses of symbols], tables)`` from a valid cache entry, or None; an entry that does not
    verify, or whose object code will not load, is recompiled (and replaced where it can be written)."""
    found = read_entry(entry)
    if found is None:
        return None
    try:
        return load_entry(entry, found, symbols)
    except Exception:  # noqa: BLE001 - object code that will not load is a corrupt entry
        store.STATS["corrupt"] += 1
        if trust.writable(entry.parent.parent):
            store.discard(entry)
        return None


def read_entry(entry: Path) -> Optional[dict]:
    """The entry's files (name -> bytes) as its signed manifest lists them, or None
    (``common.cache.read_verified``); one without all of ``FILES`` is corrupt."""
    data = store.read_verified(entry)
    if data is not None and not set(FILES) <= set(data):
        store.STATS["corrupt"] += 1
        if trust.writable(entry.parent.parent):
            store.discard(entry)
        return None
    return data


def load_entry(entry: Path, files: dict, symbols: list) -> tuple:
    """``([addresses], tables)`` of a valid entry: from its shared library when it has one
    (no LLVM in this process), else from its object code through LLVM; either way
    from the verified bytes, never from the entry's files again. A library that will
    not load (a ``noexec`` temp directory, a cross compiler) is dropped from the entry."""
    tables = (np.frombuffer(files["consts.f32"], np.float32), np.frombuffer(files["consts.f64"], np.float64))
    if "segment.so" in files:
        try:
            return link.load_bytes(files["segment.so"], symbols), tables
        except OSError:
            _drop_library(entry, files)
    from . import jit          # deferred: llvmlite's binding costs 30-45 ms of a warm start
    return jit.load_many(files["segment.o"], symbols), tables


def _drop_library(entry: Path, files: dict) -> None:
    """Rewrite ``entry`` without its shared library."""
    files.pop("segment.so")
    store.save_entry(entry, files, fresh=True)


def write_entry(entry: Path, text: str, obj: bytes, tables: tuple) -> None:
    """Write ``entry``, its signed manifest last; a cache that cannot be written warns
    once and costs the next process a compile, no more."""
    files = {"segment.ll": text.encode(), "segment.o": obj,
             "consts.f32": tables[0].tobytes(), "consts.f64": tables[1].tobytes()}
    if trust.signing_key() is None or not trust.writable(entry.parent.parent):
        return
    with tempfile.TemporaryDirectory(prefix="netjit-link-") as private:
        library = Path(private) / "segment.so"
        if link.link(obj, library):
            files["segment.so"] = library.read_bytes()
    store.save_entry(entry, files)
