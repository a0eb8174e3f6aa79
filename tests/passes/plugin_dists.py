"""Installed-looking distributions for plugin tests: a ``*.dist-info`` with
``METADATA`` and ``entry_points.txt`` in a directory put on ``sys.path``, so
``importlib.metadata`` finds the entry points exactly as for a pip install."""
from __future__ import annotations

import contextlib
import sys
import textwrap
from pathlib import Path

from netjit.passes import REGISTRY, ensure_plugins


def make_dist(site: Path, dist: str, entry_points: dict, modules: dict = ()) -> Path:
    """Write distribution ``dist`` (entry name -> "module[:attr]") and its modules into ``site``."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[netjit.passes]\n{lines}")
    for mod, src in dict(modules).items():
        (site / f"{mod}.py").write_text(textwrap.dedent(src))
    return info


@contextlib.contextmanager
def plugins_on_path(*paths):
    """Plugins from ``paths`` are discovered inside; everything is forgotten on exit."""
    added = [str(p) for p in paths]
    with REGISTRY.scratch():
        sys.path[:0] = added
        try:
            ensure_plugins(reload=True)
            yield
        finally:
            for p in added:
                sys.path.remove(p)
            ensure_plugins(reload=True)
