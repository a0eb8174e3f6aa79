"""Readable SSA text for a Graph; the grammar is in docs/ir.md.

    graph mlp(%x) {
      %x:f32[?,784] = Placeholder(shape=(None, 784))
      %mlp/MatMul:f32[?,10] = MatMul(%x, %w) @cpu:0  # explicit device
      %y~2:f32[?,10] = Add(%y, %y)
      return %y~2
      targets %assign
    }

The header lists ``graph.inputs``. A value prints as ``%`` plus its blob name
(quoted when it has characters outside ``[A-Za-z0-9_/.-]`` or starts with a
digit), with ``~N`` for the N-th write of the same name; a temporary prints
as ``%<node id>`` (``#k`` for output k). A device or placement reason that
would not read back unchanged is JSON-quoted.
"""
from __future__ import annotations

import json
import re

from ..ops import format_attr

_PLAIN = re.compile(r"[A-Za-z_/.\-][A-Za-z0-9_/.\-]*\Z")
_PLAIN_DEVICE = re.compile(r"[A-Za-z0-9_:/.\-]+\Z")


def _quote(name: str) -> str:
    return name if _PLAIN.match(name) else json.dumps(name)


def _quote_device(device: str) -> str:
    return device if _PLAIN_DEVICE.match(device) else json.dumps(device)


def _quote_comment(text: str) -> str:
    plain = text.isprintable() and text == text.strip() and not text.startswith('"')
    return text if plain else json.dumps(text)


def value_labels(graph) -> dict:
    """A unique, stable label (without %) for every value of ``graph``."""
    labels, seen = {}, {}
    for n in graph.nodes():
        names = graph.names(n)
        for i in range(max(len(names), 1)):
            name = names[i] if i < len(names) else None
            if name is None:
                label = str(n) if i == 0 else f"{n}#{i}"
            else:
                seen[name] = seen.get(name, 0) + 1
                label = _quote(name) + (f"~{seen[name]}" if seen[name] > 1 else "")
            labels[(n, i)] = label
    return labels


def format_node(graph, n, labels=None) -> str:
    """One node as a line of IR text (without indentation)."""
    labels = labels if labels is not None else value_labels(graph)
    op = graph.op(n)
    types = graph.types(n)
    if types:
        lhs = ", ".join(f"%{labels[(n, i)]}:{t}" for i, t in enumerate(types))
    else:
        lhs = f"%{labels[(n, 0)]}:()"
    args = [f"%{labels[v]}" for v in graph.inputs_of(n)]
    args += [f"{k}={format_attr(v)}" for k, v in op.non_default_attrs().items()]
    line = f"{lhs} = {op.name}({', '.join(args)})"
    ctrl = graph.control_edges(n)
    if ctrl:  # ^%v: a dependency; ^?%v: ordered after %v only if %v runs too
        line += " " + " ".join(f"^{'?' if order_only else ''}%{labels[(c, 0)]}" for c, order_only in ctrl)
    if graph.device(n) is not None:
        line += f" @{_quote_device(graph.device(n))}"
    reason = graph.meta(n).get("placement")
    if reason:
        line += f"  # {_quote_comment(str(reason))}"
    return line


def format_graph(graph) -> str:
    """The whole graph as IR text."""
    labels = value_labels(graph)
    params = ", ".join(f"%{labels[(n, 0)]}" for n in graph.inputs)
    lines = [f"graph {_quote(graph.name)}{f'({params})' if graph.inputs else ''} {{"]
    for n in graph.nodes():
        describe = getattr(graph.op(n), "describe", None)
        if describe is not None:  # fused nodes: their sub-expression, readable
            lines.append(f"  # {describe()}")
        lines.append("  " + format_node(graph, n, labels))
    if graph.outputs:
        lines.append("  return " + ", ".join(f"%{labels[v]}" for v in graph.outputs))
    if graph.targets:
        lines.append("  targets " + ", ".join(f"%{labels[(n, 0)]}" for n in graph.targets))
    lines.append("}")
    return "\n".join(lines)
