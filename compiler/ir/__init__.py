"""The IR: Graph (around networkx), verification, text printing."""
from .graph import Graph, Value
from .printer import format_graph, format_node, value_labels

__all__ = ["Graph", "Value", "format_graph", "format_node", "value_labels"]
