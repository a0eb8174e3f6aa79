"""Who the compile cache trusts: the key that signs manifests, and directories it cannot write.

Whoever can write a cache directory can run code as everyone who loads from it,
as with ``__pycache__``: numba's index and data files are pickles, a native
entry holds object code and a shared library. So every manifest carries an
HMAC-SHA256, under a key kept outside the cache directory (``key_file``), of
its entry's name and its files' SHA-256s; nothing is loaded unless a manifest
that verifies covers it (``common.cache.read_verified``). The key is per user:
created 0600 on first use, refused when another user owns it or may read or
write it. Without a usable key nothing is loaded from or saved to the disk.

A cache directory that cannot be written (read-only, full, a regular file in
its place, another user's) is read but not written; each such directory, and
an unusable key file, costs one ``CacheWarning`` per process. See docs/cache.md.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Mapping, Optional

from netjit.errors import CacheWarning

#: names the key file instead of ``$XDG_CONFIG_HOME/netjit/cache-key`` (``~/.config/...``)
KEY_FILE_ENV = "NETJIT_CACHE_KEY_FILE"
_KEY_BYTES = 32

_LOCK = threading.RLock()
_KEYS: dict = {}        # key file path -> key bytes, or None when unusable
_WRITABLE: dict = {}    # absolute directory -> whether this process may write it
_WARNED: set = set()


def key_file() -> Path:
    """Where this user's cache key lives."""
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV])
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "netjit" / "cache-key"


def signing_key() -> Optional[bytes]:
    """This user's cache key (created on first use), or None when it cannot be
    created or read, or others may read or write it: then the disk cache is not
    used at all in this process, and one warning says why."""
    path = key_file()
    with _LOCK:
        if str(path) not in _KEYS:
            try:
                _KEYS[str(path)] = _read_or_create(path)
            except (OSError, ValueError) as exc:
                _KEYS[str(path)] = None
                warn_once(("key", str(path)), f"netjit: the cache key {path} cannot be used ({exc}); compiled "
                          "code is neither loaded from nor saved to the disk cache in this process")
        return _KEYS[str(path)]


def _read_or_create(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        _create(path)
        return _read_or_create(path)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if st.st_uid != os.geteuid():
            raise ValueError("owned by another user")
        if st.st_mode & 0o077:
            raise ValueError(f"mode {st.st_mode & 0o777:o}: others may read or write it (chmod 600 it)")
        data = fh.read()
    if len(data) < 16:
        raise ValueError(f"{len(data)} bytes, expected at least 16")
    return data


def _create(path: Path) -> None:
    """Write a new random key to ``path``, unless another process got there first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache-key")     # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(_KEY_BYTES))
        try:
            os.link(tmp, path)             # atomic, and never replaces a key another process made
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def mac(key: bytes, entry_name: str, digests: Mapping[str, str]) -> str:
    """The HMAC of an entry's manifest: its name (a key's entry cannot pose as another's)
    and its files' SHA-256s."""
    message = json.dumps({"entry": entry_name, "files": dict(digests)}, sort_keys=True).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verifies(key: bytes, entry_name: str, digests: Mapping[str, str], signature: str) -> bool:
    return hmac.compare_digest(mac(key, entry_name, digests), str(signature))


def writable(directory) -> bool:
    """Whether this process may write ``directory`` (creating it if need be), probed once
    per directory per process; the first ``False`` warns."""
    d = os.path.abspath(directory)
    with _LOCK:
        if d not in _WRITABLE:
            try:
                os.makedirs(d, exist_ok=True)
                fd, probe = tempfile.mkstemp(dir=d, prefix=".netjit-probe")
                os.close(fd)
                os.unlink(probe)
                _WRITABLE[d] = True
            except OSError as exc:
                mark_unwritable(d, exc)
        return _WRITABLE[d]


def mark_unwritable(directory, exc: OSError) -> None:
    """A write into ``directory`` failed (``exc``): stop writing there in this process, and warn once."""
    d = os.path.abspath(directory)
    with _LOCK:
        _WRITABLE[d] = False
    warn_once(("dir", d), f"netjit: the cache directory {d} cannot be written ({exc}); valid entries are "
              "still read, other segments are compiled in memory in this process")


def warn_once(topic, message: str) -> None:
    """``warnings.warn(message, CacheWarning)`` the first time for ``topic`` in this process."""
    with _LOCK:
        if topic in _WARNED:
            return
        _WARNED.add(topic)
    warnings.warn(message, CacheWarning, stacklevel=3)


def forget() -> None:
    """Forget keys, probes and warnings (tests: a new key file, a directory made writable)."""
    with _LOCK:
        _KEYS.clear()
        _WRITABLE.clear()
        _WARNED.clear()
