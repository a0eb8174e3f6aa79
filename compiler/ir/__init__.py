"""The IR: Graph (around networkx), verification, and its three formats.

Text (``str(graph)`` / ``parse_graph``), JSON (``graph_to_json`` /
``graph_from_json``, ``save_graph`` / ``load_graph`` with large constants in a
side .npz) and DOT (``to_dot``). The grammar is in docs/ir.md.
"""
from .dot import to_dot
from .graph import Graph, Value
from .parser import constants_of, parse_graph
from .printer import format_graph, format_node, value_labels
from .serialize import graph_from_json, graph_to_json, load_graph, save_graph

__all__ = ["Graph", "Value", "format_graph", "format_node", "value_labels", "parse_graph",
           "constants_of", "graph_to_json", "graph_from_json", "save_graph", "load_graph", "to_dot"]
