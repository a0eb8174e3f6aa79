"""The IR as JSON (for tools), with large constants in a side ``.npz``.

The format is versioned (``"format": "netjit-ir", "version": 1``) and
round-trips exactly: node ids, names, devices, meta, control edges (and
which of them are order-only), types with unknown dims and every attribute
value, constants bit for bit. This module holds the document structure
(header, one object per node); attribute and meta values, types and
constants go through the shared codec (``attr_codec``, exact spelling), which
also gives the hostile-file checks. docs/ir.md sketches the schema. Nothing
is pickled and nothing is ``eval``-ed. A malformed document raises LoadError
(an InvalidArgumentError) naming the file and the JSON location, e.g.
``nodes[3].op.attrs.axis``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import numpy as np

from netjit.errors import InvalidArgumentError

from .files import check_json_size, read_regular
from .attr_codec import (INLINE_MAX, MAX_JSON_BYTES, Decoder, Encoder, LoadError, Spelling, describe,
                         parse_json, tensor_type_json)
from .graph import Graph

FORMAT, VERSION = "netjit-ir", 1
#: Constants with more elements than this go to the side .npz when there is one.
NPZ_MIN_SIZE = INLINE_MAX
#: How version 1 spells values: tuples, NumPy scalars and dicts tagged, base64 arrays.
SPELLING = Spelling(op_key="name", const_tag="const", exact=True)
_HEADER = {"format", "version", "name", "next_id", "inputs", "outputs", "targets", "nodes"}
_NODE = {"id", "op", "names", "device", "types", "inputs", "control", "meta"}


# -- encoding ---------------------------------------------------------------
def _encode_node(enc: Encoder, graph: Graph, n: int, loc: str) -> dict:
    meta = graph.meta(n)
    bad = [k for k in meta if not isinstance(k, str)]
    if bad:
        raise InvalidArgumentError(f"node {n}: meta keys must be strings, got {bad!r}")
    return {"id": n, "op": enc.op(graph.op(n), f"{loc}.op"), "names": list(graph.names(n)),
            "device": graph.device(n), "types": [tensor_type_json(t) for t in graph.types(n)],
            "inputs": [list(v) for v in graph.inputs_of(n)],
            "control": graph.control_inputs(n),
            **({"order_only": oo} if (oo := graph.order_only_inputs(n)) else {}),
            "meta": {k: enc.value(v, f"{loc}.meta.{k}") for k, v in meta.items()}}


def graph_to_dict(graph: Graph, side: Optional[dict] = None) -> dict:
    """The JSON document as Python data; large arrays go into ``side`` if given."""
    enc = Encoder(SPELLING, f"graph {graph.name!r}", side)
    return {"format": FORMAT, "version": VERSION, "name": graph.name,
            "next_id": graph._next_id,
            "inputs": list(graph.inputs), "outputs": [list(v) for v in graph.outputs],
            "targets": list(graph.targets),
            "nodes": [_encode_node(enc, graph, n, f"nodes[{i}]") for i, n in enumerate(graph.nodes())]}


def graph_to_json(graph: Graph, npz_path: Optional[str] = None) -> str:
    """The graph as JSON text.

    With ``npz_path``, constants of more than ``NPZ_MIN_SIZE`` elements are
    written there (``np.savez``) and referenced by key; otherwise every array
    is inline (base64).
    """
    side: Optional[dict] = {} if npz_path is not None else None
    text = _dumps(graph_to_dict(graph, side))
    if side:
        with open(npz_path, "wb") as fh:
            np.savez(fh, **side)
    return text


def _dumps(doc: dict) -> str:
    """Compact but diffable: the header on one line, then one node a line."""
    head = json.dumps({k: v for k, v in doc.items() if k != "nodes"}, allow_nan=False)
    nodes = ",\n".join("  " + json.dumps(node, allow_nan=False) for node in doc["nodes"])
    return f'{head[:-1]},\n "nodes": [\n{nodes}\n ]}}' if nodes else f'{head[:-1]}, "nodes": []}}'


# -- decoding ---------------------------------------------------------------
def _decode_node(dec: Decoder, graph: Graph, obj, loc: str) -> None:
    dec.fields(obj, loc, _NODE, {"order_only"})
    n = dec.expect(obj["id"], int, f"{loc}.id", "an integer")
    op = dec.op(obj["op"], f"{loc}.op")
    types = [dec.tensor_type(t, f"{loc}.types[{i}]")
             for i, t in enumerate(dec.expect(obj["types"], list, f"{loc}.types", "a list of types"))]
    names = dec.expect(obj["names"], list, f"{loc}.names", "a list of names")
    for i, nm in enumerate(names):
        if nm is not None and not isinstance(nm, str):
            raise dec.fail(f"{loc}.names[{i}]", f"expected a string or null, got {describe(nm)}")
    device = dec.expect(obj["device"], (str, type(None)), f"{loc}.device", "a device name or null")
    inputs = [_value_ref(dec, graph, v, f"{loc}.inputs[{i}]")
              for i, v in enumerate(dec.expect(obj["inputs"], list, f"{loc}.inputs", "a list"))]
    try:
        graph.add(op, inputs, names=names, device=device, types=types, node_id=n)
    except InvalidArgumentError as exc:
        raise dec.fail(f"{loc}.id", str(exc)) from None
    control = dec.expect(obj["control"], list, f"{loc}.control", "a list of node ids")
    order_only = dec.expect(obj.get("order_only", []), list, f"{loc}.order_only", "a list of node ids")
    for i, u in enumerate(order_only):
        if _node_ref(dec, graph, u, f"{loc}.order_only[{i}]") not in control:
            raise dec.fail(f"{loc}.order_only[{i}]", f"expected one of the control ids {control}, "
                                                     f"got {json.dumps(u)}")
    for i, u in enumerate(control):
        graph.add_control(_node_ref(dec, graph, u, f"{loc}.control[{i}]"), n, order_only=u in order_only)
    meta = dec.expect(obj["meta"], dict, f"{loc}.meta", "an object")
    graph.meta(n).update({k: dec.value(v, f"{loc}.meta.{k}") for k, v in meta.items()})


def _node_ref(dec: Decoder, graph: Graph, n, loc: str) -> int:
    if type(n) is not int or n not in graph:
        raise dec.fail(loc, f"expected the id of an earlier node, got {describe(n)}")
    return n


def _value_ref(dec: Decoder, graph: Graph, v, loc: str) -> tuple[int, int]:
    if not isinstance(v, list) or len(v) != 2:
        raise dec.fail(loc, f"expected [node id, output index], got {describe(v)}")
    n = _node_ref(dec, graph, v[0], f"{loc}[0]")
    if type(v[1]) is not int or not 0 <= v[1] < len(graph.types(n)):
        raise dec.fail(f"{loc}[1]", f"node {n} has no output {json.dumps(v[1])}")
    return (n, v[1])


def graph_from_dict(doc, npz_path=None, *, source: str = "<json>") -> Graph:
    """A Graph from the JSON document's Python data (``npz_path``: its side arrays).

    Raises LoadError naming ``source`` and the JSON location.
    """
    dec = Decoder(source, SPELLING, None if npz_path is None else Path(npz_path))
    try:
        fmt = dec.expect(doc, dict, "$", "an object").get("format")
        if fmt != FORMAT or doc.get("version") != VERSION or isinstance(doc.get("version"), bool):
            raise dec.fail("$", f"expected format {FORMAT!r} version {VERSION}, got "
                                f"{repr(fmt)[:40]} version {repr(doc.get('version'))[:20]}")
        dec.fields(doc, "$", _HEADER)
        graph = Graph(dec.expect(doc["name"], str, "$.name", "a string"))
        for i, node in enumerate(dec.expect(doc["nodes"], list, "$.nodes", "a list of nodes")):
            _decode_node(dec, graph, node, f"nodes[{i}]")
        graph.inputs = [_node_ref(dec, graph, n, f"inputs[{i}]")
                        for i, n in enumerate(dec.expect(doc["inputs"], list, "$.inputs", "a list"))]
        graph.outputs = [_value_ref(dec, graph, v, f"outputs[{i}]")
                         for i, v in enumerate(dec.expect(doc["outputs"], list, "$.outputs", "a list"))]
        graph.targets = [_node_ref(dec, graph, n, f"targets[{i}]")
                         for i, n in enumerate(dec.expect(doc["targets"], list, "$.targets", "a list"))]
        graph._next_id = max(graph._next_id, dec.expect(doc["next_id"], int, "$.next_id", "an integer"))
        return graph
    finally:
        dec.close()


def graph_from_json(text: str, npz_path: Optional[str] = None, *, source: str = "<json>") -> Graph:
    """The Graph a ``graph_to_json`` text describes (``npz_path``: its side arrays).

    Raises InvalidArgumentError naming ``source`` and the JSON location.
    """
    try:
        doc = parse_json(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise InvalidArgumentError(f"{source}: not JSON (or nested too deeply): {exc}") from None
    return graph_from_dict(doc, npz_path, source=source)


def _paths(path) -> tuple[str, str]:
    path = os.fspath(path)
    json_path = path if path.endswith(".json") else path + ".json"
    return json_path, json_path[:-len(".json")] + ".npz"


def save_graph(graph: Graph, path) -> str:
    """Write ``path`` (``.json`` added if missing) and, for large constants, the
    side ``.npz`` next to it; returns the JSON path."""
    json_path, npz_path = _paths(path)
    side: dict = {}
    text = _dumps(graph_to_dict(graph, side))
    if side:
        with open(npz_path, "wb") as fh:
            np.savez(fh, **side)
    elif os.path.exists(npz_path):
        os.remove(npz_path)  # a stale side file would be misleading
    with open(json_path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return json_path


def load_graph(path) -> Graph:
    """Read a graph written by ``save_graph``."""
    json_path, npz_path = _paths(path)
    try:
        text = read_regular(json_path, MAX_JSON_BYTES).decode("utf-8")
        check_json_size(text, json_path)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"cannot read IR file {exc}") from None
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(f"cannot read IR file {json_path}: {exc}") from None
    return graph_from_json(text, npz_path if os.path.exists(npz_path) else None, source=json_path)
