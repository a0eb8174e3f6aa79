"""The IR: Graph (around networkx), verification, and its three formats.

Text (``str(graph)`` / ``parse_graph``), JSON (``graph_to_json`` /
``graph_from_json``, ``save_graph`` / ``load_graph`` with large constants in a
side .npz) and DOT (``to_dot``). The grammar is in docs/ir.md.

Compiling and running need only the graph and its printer; the readers,
writers and DOT export load on first use.
"""
import importlib

from .graph import Graph, Value
from .printer import format_graph, format_node, value_labels

_LAZY = {
    "to_dot": ".dot",
    "constants_of": ".parser", "parse_graph": ".parser",
    **dict.fromkeys(["graph_from_json", "graph_to_json", "load_graph", "save_graph"], ".serialize"),
}

__all__ = ["Graph", "Value", "format_graph", "format_node", "value_labels", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
