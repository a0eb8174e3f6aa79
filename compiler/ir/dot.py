"""The IR as Graphviz DOT, for pictures (``netjit inspect --format dot|svg``).

Nodes show the op, its non-default attributes and its output types; a fused
node shows its sub-expression. Edges carry port labels only where they are
ambiguous (several outputs or several uses between the same two nodes);
control edges are dashed (dotted when order-only). Nodes are coloured by device from a fixed palette
(devices in sorted order), and with ``clusters=True`` each device is a
cluster. Every id and label is quoted, so any name makes valid DOT.
"""
from __future__ import annotations

from collections import Counter
from typing import Optional

from ..ops import FusedElementwise, format_attr
from .printer import value_labels

#: Fill colours, given to devices in sorted order (stable across runs).
PALETTE = ("#cfe2f3", "#d9ead3", "#fce5cd", "#ead1dc", "#fff2cc", "#d0e0e3", "#f4cccc", "#d9d2e9")
UNPLACED = "#ffffff"


def _q(text: str) -> str:
    """A DOT quoted string (backslashes and quotes escaped, newlines as \\n)."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_label(graph, n, labels) -> str:
    op = graph.op(n)
    if isinstance(op, FusedElementwise):
        head = f"FusedElementwise\n{op.describe().replace('; ', chr(10))}"
    else:
        attrs = ", ".join(f"{k}={_short(v)}" for k, v in op.non_default_attrs().items())
        head = f"{op.name}({attrs})" if attrs else op.name
    outs = [f"%{labels[(n, i)]}: {t}" for i, t in enumerate(graph.types(n))]
    return "\n".join([head] + outs)


def _short(value) -> str:
    text = format_attr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def device_colors(graph) -> dict[Optional[str], str]:
    """Device -> fill colour; unplaced nodes are white."""
    devices = sorted({graph.device(n) for n in graph.nx if graph.device(n) is not None})
    colors = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(devices)}
    colors[None] = UNPLACED
    return colors


def _edge_lines(graph, n) -> list[str]:
    lines = []
    data_in = [(u, out, port) for port, (u, out) in enumerate(graph.inputs_of(n))]
    pair_count = Counter(u for u, _, _ in data_in)
    for u, out, port in data_in:
        ambiguous = len(graph.types(u)) > 1 or pair_count[u] > 1
        label = f" [label={_q(f'{out}->{port}')}]" if ambiguous else ""
        lines.append(f"  {_q(u)} -> {_q(n)}{label};")
    for u, order_only in graph.control_edges(n):
        style = "dotted" if order_only else "dashed"
        lines.append(f"  {_q(u)} -> {_q(n)} [style={style}, arrowhead=odot];")
    return lines


def to_dot(graph, clusters: bool = True) -> str:
    """The graph as DOT text (deterministic for a given graph)."""
    labels = value_labels(graph)
    colors = device_colors(graph)
    by_device: dict = {}
    for n in graph.nodes():
        by_device.setdefault(graph.device(n), []).append(n)
    lines = [f"digraph {_q(graph.name)} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fontname="monospace"];']
    for i, device in enumerate(sorted(by_device, key=lambda d: (d is not None, d or ""))):
        indent = "  "
        if clusters and device is not None:
            lines += [f"  subgraph {_q(f'cluster_{i}')} {{", f"    label={_q(device)};"]
            indent = "    "
        for n in by_device[device]:
            lines.append(f"{indent}{_q(n)} [label={_q(_node_label(graph, n, labels))}, "
                         f"fillcolor={_q(colors[device])}];")
        if clusters and device is not None:
            lines.append("  }")
    for n in graph.nodes():
        lines += _edge_lines(graph, n)
    for i, (u, out) in enumerate(graph.outputs):
        lines.append(f"  {_q(f'out{i}')} [label={_q(f'return %{labels[(u, out)]}')}, shape=plaintext, style=solid];")
        lines.append(f"  {_q(u)} -> {_q(f'out{i}')};")
    lines.append("}")
    return "\n".join(lines)
