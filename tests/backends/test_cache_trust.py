"""Caches that degrade, never break; nothing loaded from the cache unless a signed manifest covers it.

Permissions do not bind root (CAP_DAC_OVERRIDE): the unwritable-directory
checks run in a fresh process as ``nobody`` (``cache_child.py --uid``) when
this one is root. Tampering runs in fresh processes too: a process that
compiled a segment answers from memory.
"""
import errno
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

import cache_child
from netjit.backends.common import cache as store
from netjit.backends.common import cache_trust as trust
from netjit.errors import CacheWarning

CHILD = Path(cache_child.__file__)
NOBODY = 65534


def _child(*scenarios, uid=None, env=None):
    args = [sys.executable, str(CHILD)] + (["--uid", str(uid)] if uid is not None else []) + list(scenarios)
    res = subprocess.run(args, env=dict(os.environ, **(env or {})), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _own(path: Path, uid):
    if uid is not None:
        os.chown(path, uid, uid)


@pytest.fixture
def world():
    """A directory the unprivileged user can reach (pytest's own is root's 0700)."""
    d = Path(tempfile.mkdtemp(prefix="netjit-trust-"))
    d.chmod(0o755)
    yield d
    for p in d.rglob("*"):              # read-only trees: make them deletable again
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(d, ignore_errors=True)


def test_unwritable_cache_directories_and_dumps_warn_once_and_compile_in_memory(world):
    uid = NOBODY if os.geteuid() == 0 else None
    home, cache, writable = world / "home", world / "cache", world / "cache2"
    for d in (home, cache, writable, world / "empty", world / "dumps"):
        d.mkdir()
    for d in (home, cache, writable):
        _own(d, uid)
    (world / "a-file").write_text("")
    env = {"HOME": str(home), "NETJIT_CACHE_KEY_FILE": "", "XDG_CONFIG_HOME": ""}
    try:
        warm = _child(f"warm:1.5:{cache}", uid=uid, env=env)
    except AssertionError as exc:
        if uid is not None and ("setuid" in str(exc) or "Operation not permitted" in str(exc)):
            print(f"skipped: cannot become user {uid} here: {exc}")
            pytest.skip(f"cannot switch to an unprivileged user: {exc}")
        raise
    assert warm["warm"]["stats"]["misses"] == 2 and not warm["warm"]["warnings"]
    for p in [cache, *cache.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    if uid is None:                      # unprivileged already: root-owned directories are not at hand
        for d in (world / "empty", world / "dumps"):
            d.chmod(0o555)
    report = _child(f"read-only-valid:1.5:{cache}", f"read-only-empty:2.5:{world / 'empty'}",
                    f"regular-file:3.5:{world / 'a-file'}", f"dumps:4.5:{writable}:{world / 'dumps'}",
                    uid=uid, env=env)
    print(json.dumps(report, indent=1))          # the measured behaviour, for the record
    for name, case in report.items():
        assert case["ok"], name
        assert len(case["warnings"]) == 1, (name, case["warnings"])
    assert report["read-only-valid"]["stats"]["disk_hits"] == 2
    assert report["read-only-valid"]["stats"]["misses"] == 0
    assert "cannot be dumped" in report["dumps"]["warnings"][0]
    assert not list((world / "empty").iterdir())


def _graph_run(c, cache_dir):
    return cache_child.run(c, str(cache_dir))


def test_a_full_disk_warns_once_and_compiles_in_memory(tmp_path, monkeypatch):
    def enospc(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(store, "write_atomic", enospc)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _graph_run(5.5, tmp_path)
    ours = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(ours) == 1 and "No space left" in str(ours[0].message)
    assert not list(tmp_path.rglob("manifest.json"))


def test_a_key_file_others_can_read_is_not_trusted(tmp_path, monkeypatch):
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    monkeypatch.setenv("NETJIT_CACHE_KEY_FILE", str(key))
    trust.forget()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert _graph_run(6.5, tmp_path / "cache")
        ours = [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]
        assert len(ours) == 1 and "others may read" in ours[0]
        assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("manifest.json"))
    finally:
        monkeypatch.undo()
        trust.forget()


def _entries(cache: Path) -> dict:
    """{"numba": entry, "native": entry} of a warmed cache."""
    found = {}
    for m in cache.glob("*/*/manifest.json"):
        found["numba" if (m.parent / "segment.py").exists() else "native"] = m.parent
    return found


class Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_payload_in_numba_index_never_runs(tmp_path):
    cache, marker = tmp_path / "cache", tmp_path / "pwned"
    assert _child(f"warm:7.5:{cache}")["warm"]["ok"]
    entry = _entries(cache)["numba"]
    (index,) = entry.glob("__pycache__/*.nbi")
    payload = pickle.dumps(Marker(str(marker)))
    index.write_bytes(payload)
    manifest = json.loads((entry / "manifest.json").read_text())       # integrity alone would pass now
    manifest["files"][f"__pycache__/{index.name}"] = store.digest(payload)
    (entry / "manifest.json").write_text(json.dumps(manifest))
    again = _child(f"tampered:7.5:{cache}")["tampered"]
    assert not marker.exists(), "numba unpickled a file no signed manifest covers"
    assert again["ok"] and again["stats"]["corrupt"] == 1 and again["stats"]["numba_compiles"] == 1
    third = _child(f"replaced:7.5:{cache}")["replaced"]                 # the entry was replaced
    assert third["ok"] and third["stats"]["disk_hits"] == 2 and not marker.exists()


def _flip(path: Path, at: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_object_code_or_manifest_is_recompiled(tmp_path):
    cache = tmp_path / "cache"
    assert _child(f"warm:8.5:{cache}")["warm"]["ok"]
    entries = _entries(cache)
    _flip(entries["native"] / "segment.o", 200)
    _flip(next(entries["numba"].glob("__pycache__/*.nbc")), 100)
    flipped = _child(f"flipped:8.5:{cache}")["flipped"]
    assert flipped["ok"] and flipped["stats"]["corrupt"] == 2 and flipped["stats"]["misses"] == 2
    manifest = entries["native"] / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["hmac"] = ("0" if doc["hmac"][0] != "0" else "1") + doc["hmac"][1:]
    manifest.write_text(json.dumps(doc))
    resigned = _child(f"bad-mac:8.5:{cache}")["bad-mac"]
    assert resigned["ok"] and resigned["stats"]["corrupt"] == 1 and resigned["stats"]["native_compiles"] == 1


def test_an_entry_signed_with_another_key_is_not_loaded(tmp_path):
    cache = tmp_path / "cache"
    assert _child(f"warm:9.5:{cache}")["warm"]["ok"]
    other = tmp_path / "other-key"
    report = _child(f"other-key:9.5:{cache}", env={"NETJIT_CACHE_KEY_FILE": str(other)})["other-key"]
    assert report["ok"] and report["stats"]["corrupt"] == 2 and report["stats"]["disk_hits"] == 0
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    np.testing.assert_equal(len(other.read_bytes()), 32)
