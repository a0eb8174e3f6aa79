"""The import graph of netjit: no cycles, and every import points down the layer list.

Read from the source with ``ast`` (nothing is imported), counting imports at
any depth, so a function-level import cannot hide a cycle. The layers are
those of ``docs/architecture.md``: a module may import its own layer and the
layers below, never one above.
"""
from __future__ import annotations

import ast
import pathlib

import networkx as nx
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: Installed package -> folder in the repository (pyproject's package-dir).
PACKAGE_DIRS = {"netjit": "netjit", "netjit.compiler": "compiler", "netjit.passes": "passes",
                "netjit.backends": "backends", "netjit.runtime": "runtime"}

#: Lowest first; a module belongs to the longest prefix that names it.
LAYERS = [
    ("leaves", ["netjit.errors", "netjit.config", "netjit.version", "netjit.compiler.ops", "netjit.compiler.ir",
                "netjit.compiler.device"]),
    ("frontend", ["netjit.compiler.frontend"]),
    ("graph stages", ["netjit.compiler.placement", "netjit.compiler.partition", "netjit.compiler.segments"]),
    ("backends", ["netjit.backends"]),
    ("passes", ["netjit.passes"]),
    ("pipeline", ["netjit.compiler.pipeline", "netjit.compiler"]),
    ("runtime", ["netjit.runtime"]),
    ("caffe2 runtime", ["netjit.runtime.caffe2"]),
    ("distributed runtime", ["netjit.runtime.distributed"]),
    ("public face", ["netjit"]),
]


def module_files() -> dict[str, pathlib.Path]:
    """Every netjit module name -> its source file."""
    found = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            if package == "netjit" and parts and parts[0] in ("compiler", "passes", "backends", "runtime"):
                continue
            found[name] = path
    return found


MODULES = module_files()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    # ``from pkg import mod`` imports the submodule when there is one
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]


def imports_of(name: str) -> set[str]:
    """The netjit modules ``name`` imports, anywhere in its body."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = _resolve(name, path.name == "__init__.py", node)
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t.startswith("netjit") and t != name:
                out.add(t)
    return out


def layer_of(name: str) -> int:
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (name == p or name.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    return rank


def import_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name in MODULES:
        g.add_node(name)
        for t in imports_of(name):
            g.add_edge(name, t)
    return g


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer_of(m) is None] == []


def test_no_import_cycles():
    g = import_graph()
    # a package's __init__ importing its own submodules is how packages re-export
    g.remove_edges_from([(a, b) for a, b in list(g.edges) if b.startswith(a + ".")])
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert cycles == [], f"import cycles: {cycles}"


def test_imports_point_down_the_layers():
    upward = []
    for a, b in import_graph().edges:
        if layer_of(b) > layer_of(a):
            upward.append(f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})")
    assert upward == []


@pytest.mark.parametrize("name", ["netjit.compiler.frontend.net", "netjit.runtime.caffe2.workspace"])
def test_the_checker_sees_imports(name):
    """The checks above would pass vacuously if imports were not found."""
    assert imports_of(name)
