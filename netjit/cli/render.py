"""A graph as the tool shows it: text, json, dot, svg (Graphviz) or one self-contained html page."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess

from netjit.compiler.ir import Graph, format_node, value_labels
from netjit.compiler.ir.dot import to_dot as graph_to_dot
from netjit.compiler.ir.serialize import graph_to_json
from netjit.errors import FailedPreconditionError, UnimplementedError

FORMATS = ("text", "json", "dot", "svg", "html")
DOT_MISSING = ("Graphviz's `dot` program is not on PATH, so the graph cannot be drawn as SVG. "
               "Install Graphviz (e.g. `apt-get install graphviz` or `brew install graphviz`), "
               "or use --format dot and render it elsewhere.")


def to_json(graph: Graph) -> str:
    return graph_to_json(graph)


def to_dot(graph: Graph) -> str:
    return graph_to_dot(graph)


def dot_binary() -> str:
    """The path of Graphviz's ``dot``; FailedPreconditionError with how to get it."""
    path = shutil.which("dot")
    if path is None:
        raise FailedPreconditionError(DOT_MISSING)
    return path


def to_svg(graph: Graph) -> str:
    """Render the graph's DOT with Graphviz (``dot -Tsvg``)."""
    proc = subprocess.run([dot_binary(), "-Tsvg"], input=to_dot(graph), capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, LC_ALL="C"))
    if proc.returncode != 0:
        raise FailedPreconditionError(f"Graphviz `dot` failed on graph {graph.name!r}: {proc.stderr.strip()}")
    return proc.stdout


def inline_svg(svg: str) -> str:
    """An SVG document as an element for an HTML page: no XML prolog, no namespace URLs."""
    svg = svg[svg.index("<svg"):] if "<svg" in svg else svg
    return re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)


def node_rows(graph: Graph) -> list[tuple]:
    """(id, op, outputs with types, inputs, device, IR line) for every node, in graph order."""
    labels = value_labels(graph)
    rows = []
    for n in graph.nodes():
        outs = ", ".join(f"%{labels[(n, i)]}:{t}" for i, t in enumerate(graph.types(n)))
        ins = ", ".join(f"%{labels[v]}" for v in graph.inputs_of(n))
        rows.append((n, graph.op(n).name, outs, ins, graph.device(n) or "", format_node(graph, n, labels)))
    return rows


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; vertical-align: top; }}
td.ir, pre {{ font-family: monospace; white-space: pre; }}
.placeholder {{ border: 1px dashed #999; padding: 1em; color: #555; max-width: 60em; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{summary}</p>
<h2>Graph</h2>
{picture}
<h2>Nodes</h2>
<table><tr><th>id</th><th>op</th><th>outputs</th><th>inputs</th><th>device</th><th>IR</th></tr>
{rows}
</table>
<h2>IR text</h2>
<pre>{ir}</pre>
</body></html>
"""


def to_html(graph: Graph, title: str = "") -> str:
    """One page, no external resources: inline SVG (or a note saying why not) and a node table."""
    try:
        picture = inline_svg(to_svg(graph))
    except (FailedPreconditionError, UnimplementedError) as exc:
        picture = f'<div class="placeholder">No picture: {html.escape(str(exc))}</div>'
    rows = "\n".join("<tr>" + "".join(f'<td{" class=ir" if i == 5 else ""}>{html.escape(str(c))}</td>'
                                      for i, c in enumerate(r)) + "</tr>" for r in node_rows(graph))
    title = title or f"netjit graph {graph.name}"
    devices = sorted({graph.device(n) or "unplaced" for n in graph.nodes()})
    summary = html.escape(f"{len(graph)} nodes, {len(graph.outputs)} outputs, devices: {', '.join(devices)}")
    return _PAGE.format(title=html.escape(title), summary=summary, picture=picture, rows=rows,
                        ir=html.escape(str(graph)))


def render(graph: Graph, fmt: str, title: str = "") -> str:
    """``graph`` in format ``fmt`` (one of FORMATS)."""
    if fmt == "text":
        return str(graph)
    if fmt == "json":
        return to_json(graph)
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "svg":
        return to_svg(graph)
    if fmt == "html":
        return to_html(graph, title)
    raise UnimplementedError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")


def summary_json(compiled) -> str:
    """The compile summary (stages, pass applications) as JSON."""
    return json.dumps({"stages": {k: {"nodes": len(g), "seconds": compiled.seconds.get(k)}
                                  for k, g in compiled.stages.items()},
                       "passes": [a.as_dict() for a in compiled.applications]}, indent=1)
