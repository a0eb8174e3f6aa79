"""Pass plugins: modules named in the ``netjit.passes`` entry-point group.

A plugin module registers its passes on import. Plugins load once, the first
time a pass list is needed. A plugin that fails to import (or to register)
is logged as a warning, recorded in ``plugin_errors()`` with its entry-point
and distribution names, and leaves no half-registered passes behind.
"""
from __future__ import annotations

import importlib.machinery
import logging
import os
import sys
import threading
from dataclasses import dataclass

from .registry import REGISTRY

GROUP = "netjit.passes"
LOGGER = logging.getLogger("netjit.passes")


@dataclass(frozen=True)
class PluginError:
    """A plugin that could not be loaded, and why."""

    entry_point: str
    distribution: str
    error: str

    def __str__(self) -> str:
        return f"pass plugin {self.entry_point!r} ({self.distribution}) failed to load: {self.error}"


class _PluginState:
    """Whether plugins were loaded and what went wrong (one per process)."""

    loaded = False
    loading = False  # a plugin calling list_passes() while it loads must not recurse
    lock = threading.RLock()  # sessions compile from many threads
    errors: list = []
    origins: list = []
    modules: list = []


def _distribution(ep) -> str:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else ep.value.split(":")[0]


def _load_one(ep) -> None:
    origin = _distribution(ep)
    REGISTRY.origin = origin
    try:
        ep.load()
    except BaseException as exc:  # noqa: BLE001 -- a broken plugin must not break netjit
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        REGISTRY.remove_origin(origin)
        err = PluginError(ep.name, origin, f"{type(exc).__name__}: {exc}")
        _PluginState.errors.append(err)
        LOGGER.warning("%s", err)
    else:
        _PluginState.origins.append(origin)
        _PluginState.modules.append(ep.module)
    finally:
        REGISTRY.origin = None


def ensure_plugins(reload: bool = False) -> None:
    """Load every ``netjit.passes`` entry point once (again with ``reload=True``)."""
    if _PluginState.loaded and not reload:
        return
    with _PluginState.lock:
        if (_PluginState.loaded and not reload) or _PluginState.loading:
            return
        _PluginState.loading = True
        try:
            _load_all(reload)
        finally:
            _PluginState.loading = False
            _PluginState.loaded = True


def _load_all(reload: bool) -> None:
    if reload:
        for origin in _PluginState.origins:
            REGISTRY.remove_origin(origin)
        for module in _PluginState.modules:  # so that importing registers again
            sys.modules.pop(module, None)
        _PluginState.errors, _PluginState.origins, _PluginState.modules = [], [], []
    if not _may_declare_plugins():
        return
    from importlib import metadata
    for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        _load_one(ep)


def _may_declare_plugins() -> bool:
    """False only when no distribution on ``sys.path`` can declare a ``netjit.passes`` entry point.

    Importing importlib.metadata and parsing every installed distribution's
    metadata costs 20-40 ms, once per process, on the first compile; reading
    just the ``entry_points.txt`` files of the ``*.dist-info``/``*.egg-info``
    folders on ``sys.path`` costs about a millisecond. Whatever this check
    cannot read cheaply (a zip file on ``sys.path``, a third-party
    distribution finder) answers True, and importlib.metadata decides.
    """
    if any(hasattr(f, "find_distributions") and f is not importlib.machinery.PathFinder
           for f in sys.meta_path):
        return True
    needle = GROUP.encode()
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                return True
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), "rb") as fh:
                        if needle in fh.read():
                            return True
                except OSError:
                    continue
    return False


def plugin_errors() -> list[PluginError]:
    """Plugins that failed to load (loads plugins first if needed)."""
    ensure_plugins()
    return list(_PluginState.errors)
