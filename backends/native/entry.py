"""A native cache entry (on ``common.cache``): LLVM IR, object code, constants, shared library.

An entry holds ``segment.ll``, ``segment.o``, the constant tables
``consts.f32``/``consts.f64`` and, where a C compiler driver links one,
``segment.so``; its manifest lists them all. Segments and the packed GEMM
library use the same format.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import numpy as np

from ..common import cache as store
from . import link

FILES = ("segment.ll", "segment.o", "consts.f32", "consts.f64")     # and segment.so where linked


def from_disk(entry: Path, symbols: list) -> Optional[tuple]:
    """``([addresses of symbols], tables)`` from a valid cache entry, or None; an entry that does not
    verify, or whose object code will not load, is deleted (and recompiled)."""
    found = read_entry(entry)
    if found is None:
        return None
    try:
        return load_entry(entry, found, symbols)
    except Exception:  # noqa: BLE001 - object code that will not load is a corrupt entry
        store.STATS["corrupt"] += 1
        store.discard(entry)
        return None


def read_entry(entry: Path) -> Optional[dict]:
    """The entry's files (name -> bytes) as its manifest lists them, or None. An entry
    that does not match its manifest is corrupt: deleted (and recompiled). One that
    cannot be read (permissions, I/O) is a miss and stays."""
    try:
        manifest = store.read_manifest(entry)
    except ValueError:
        manifest = False
    except OSError:
        return None
    if manifest is None:
        return None
    try:
        data = {name: (entry / name).read_bytes() for name in manifest} if manifest else None
    except FileNotFoundError:          # listed but gone: damaged
        data = None
    except OSError:
        return None
    if (data is None or not set(FILES) <= set(data)
            or any(store.digest(data[name]) != manifest[name] for name in data)):
        store.STATS["corrupt"] += 1
        store.discard(entry)
        return None
    return data


def load_entry(entry: Path, files: dict, symbols: list) -> tuple:
    """``([addresses], tables)`` of a valid entry: from its shared library when it has one
    (no LLVM in this process), else from its object code through LLVM. A library that
    will not load (a ``noexec`` mount, a cross compiler) is dropped from the entry."""
    tables = (np.frombuffer(files["consts.f32"], np.float32), np.frombuffer(files["consts.f64"], np.float64))
    if "segment.so" in files:
        try:
            return link.load(entry / "segment.so", symbols), tables
        except OSError:
            _drop_library(entry, files)
    from . import jit          # deferred: llvmlite's binding costs 30-45 ms of a warm start
    return jit.load_many(files["segment.o"], symbols), tables


def _drop_library(entry: Path, files: dict) -> None:
    """Rewrite ``entry``'s manifest without its shared library, then delete that."""
    try:
        store.write_manifest(entry, {name: data for name, data in files.items() if name != "segment.so"})
        (entry / "segment.so").unlink()
    except OSError:
        pass


def write_entry(entry: Path, text: str, obj: bytes, tables: tuple) -> None:
    """Write ``entry``, its manifest last; a cache that cannot be written warns and
    costs the next process a compile, no more."""
    files = {"segment.ll": text.encode(), "segment.o": obj,
             "consts.f32": tables[0].tobytes(), "consts.f64": tables[1].tobytes()}
    try:
        for name, data in files.items():
            store.write_atomic(entry / name, data)
        if link.link(obj, entry / "segment.so"):
            files["segment.so"] = (entry / "segment.so").read_bytes()
        # the manifest last: an entry without one is incomplete, never loaded
        store.write_manifest(entry, files)
    except OSError as exc:
        warnings.warn(f"netjit: could not write the cache entry {entry}: {exc}", RuntimeWarning, stacklevel=3)
