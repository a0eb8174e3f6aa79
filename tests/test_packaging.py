"""A non-editable ``pip install .`` installs the whole tree.

pyproject.toml lists its packages explicitly; a subpackage missing from the
list installs nothing and fails only on a user's machine (an editable install
finds it anyway). Every folder of Python modules under the installed source
folders must be listed, and every listed package must exist.
"""
from __future__ import annotations

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _folder(package: str, package_dir: dict) -> pathlib.Path:
    best = max((p for p in package_dir if package == p or package.startswith(p + ".")), key=len)
    rest = package[len(best):].lstrip(".")
    return ROOT / package_dir[best] / rest.replace(".", "/")


def test_every_source_folder_is_a_listed_package():
    cfg = _config()
    listed, package_dir = set(cfg["packages"]), cfg["package-dir"]
    found = set()
    for top, folder in package_dir.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            name = ".".join([top, *rel.parts])
            if top == "netjit" and rel.parts and rel.parts[0] in ("compiler", "passes", "backends", "runtime"):
                continue
            found.add(name)
    assert found - listed == set(), "packages missing from pyproject's list"
    assert {p for p in listed if not (_folder(p, package_dir) / "__init__.py").exists()} == set()


def test_module_folders_have_an_init():
    """A folder of modules without __init__.py would be skipped by the package list."""
    for folder in ("netjit", "compiler", "passes", "backends", "runtime"):
        for py in (ROOT / folder).rglob("*.py"):
            assert (py.parent / "__init__.py").exists(), f"{py.parent} has modules but no __init__.py"
